package main

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

var (
	// mdLinkRE finds a Markdown link's target: [text](target).
	mdLinkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// headingRE finds a Markdown heading.
	headingRE = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
	// fenceRE finds a fenced code block, whose text holds no links.
	fenceRE = regexp.MustCompile("(?s)```.*?```")
)

// headingAnchor is GitHub's anchor of a heading: lower case, punctuation dropped, spaces as '-'.
func headingAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocs_LinksResolve: every relative link of README.md and docs/*.md names a file of the
// repository, and every #anchor a heading of its page.
func TestDocs_LinksResolve(t *testing.T) {
	t.Parallel()
	anchors := map[string]map[string]bool{}
	anchorsOf := func(page string) map[string]bool {
		if a, ok := anchors[page]; ok {
			return a
		}
		a := map[string]bool{}
		for _, m := range headingRE.FindAllStringSubmatch(fenceRE.ReplaceAllString(readPage(t, page), ""), -1) {
			a[headingAnchor(m[1])] = true
		}
		anchors[page] = a
		return a
	}
	for _, page := range append([]string{"README.md"}, docsPages(t)...) {
		text := fenceRE.ReplaceAllString(readPage(t, page), "")
		for _, m := range mdLinkRE.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			resolved := page
			if file != "" {
				resolved = path.Clean(path.Join(path.Dir(page), file))
				if _, err := os.Stat(filepath.Join("..", "..", filepath.FromSlash(resolved))); err != nil {
					t.Errorf("%s: link %s: %s does not exist", page, target, resolved)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(resolved, ".md") && !anchorsOf(resolved)[anchor] {
				t.Errorf("%s: link %s: %s has no heading #%s", page, target, resolved, anchor)
			}
		}
	}
}
