package baidupush

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The message types a user can send to customer service.
const (
	// MsgTypeText is a text message, with Content.
	MsgTypeText = "text"
	// MsgTypeImage is an image message, with PicUrl.
	MsgTypeImage = "image"
)

// MaxSafeMsgID is the largest MsgId a JavaScript bot (or any decoder of JSON numbers into
// float64) reads exactly: 2^53 - 1. Generators of MsgId should stay at or below it.
const MaxSafeMsgID = 1<<53 - 1

// Message is what a user wrote to the mini program's customer service, as Baidu pushes it. The
// JSON names are Baidu's.
type Message struct {
	// ToUserName is the mini program's appId.
	ToUserName string `json:"ToUserName"`
	// FromUserName is the sender's open_id.
	FromUserName string `json:"FromUserName"`
	// CreateTime is when the user wrote, in unix seconds.
	CreateTime int64 `json:"CreateTime"`
	// MsgType is "text" or "image".
	MsgType string `json:"MsgType"`
	// Content is the text of a text message.
	Content string `json:"Content,omitempty"`
	// PicURL is the image link of an image message.
	PicURL string `json:"PicUrl,omitempty"`
	// MsgID identifies the message; retries and duplicates carry the same one.
	MsgID int64 `json:"MsgId"`
}

// Validate reports what is missing or contradictory in m.
func (m Message) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if m.ToUserName == "" {
		add("ToUserName: empty; want the mini program's appId")
	}
	if m.FromUserName == "" {
		add("FromUserName: empty; want the sender's open_id")
	}
	if m.CreateTime <= 0 {
		add("CreateTime: %d; want unix seconds", m.CreateTime)
	}
	if m.MsgID <= 0 {
		add("MsgId: %d; want a positive integer", m.MsgID)
	}
	switch m.MsgType {
	case MsgTypeText:
		if m.Content == "" {
			add("Content: empty in a text message")
		}
		if m.PicURL != "" {
			add("PicUrl: set in a text message")
		}
	case MsgTypeImage:
		if m.PicURL == "" {
			add("PicUrl: empty in an image message")
		}
		if m.Content != "" {
			add("Content: set in an image message")
		}
	default:
		add("MsgType: %q; want text or image", m.MsgType)
	}
	return errors.Join(errs...)
}

// MarshalFormat renders m in Baidu's JSON or XML, byte for byte as docs/baidu-push.md shows it.
func (m Message) MarshalFormat(f Format) ([]byte, error) {
	switch f {
	case FormatJSON:
		return marshalJSON(m)
	case FormatXML, "":
		var w xmlWriter
		w.message(m)
		return w.done(), nil
	}
	return nil, fmt.Errorf("format %q; want xml or json", f)
}

// marshalJSON encodes v without escaping <, > and & (a push is not HTML) and without the trailing
// newline of json.Encoder.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// xmlWriter writes Baidu's XML: strings in CDATA, numbers bare, no declaration, no spaces.
type xmlWriter struct{ b bytes.Buffer }

func (w *xmlWriter) cdata(name, v string) {
	w.b.WriteString("<" + name + "><![CDATA[")
	// A "]]>" inside the value ends one section and opens the next.
	w.b.WriteString(strings.ReplaceAll(v, "]]>", "]]]]><![CDATA[>"))
	w.b.WriteString("]]></" + name + ">")
}

func (w *xmlWriter) number(name string, v int64) {
	w.b.WriteString("<" + name + ">" + strconv.FormatInt(v, 10) + "</" + name + ">")
}

func (w *xmlWriter) message(m Message) {
	w.cdata("ToUserName", m.ToUserName)
	w.cdata("FromUserName", m.FromUserName)
	w.number("CreateTime", m.CreateTime)
	w.cdata("MsgType", m.MsgType)
	if m.MsgType == MsgTypeImage {
		w.cdata("PicUrl", m.PicURL)
	} else {
		w.cdata("Content", m.Content)
	}
	w.number("MsgId", m.MsgID)
}

func (w *xmlWriter) done() []byte {
	return append(append([]byte("<xml>"), w.b.Bytes()...), "</xml>"...)
}

// wire is every field a push body can carry, in JSON or XML, plain or encrypted.
type wire struct {
	XMLName      xml.Name `json:"-" xml:"xml"`
	ToUserName   string   `json:"ToUserName" xml:"ToUserName"`
	FromUserName string   `json:"FromUserName" xml:"FromUserName"`
	CreateTime   int64    `json:"CreateTime" xml:"CreateTime"`
	MsgType      string   `json:"MsgType" xml:"MsgType"`
	Content      string   `json:"Content" xml:"Content"`
	PicURL       string   `json:"PicUrl" xml:"PicUrl"`
	MsgID        int64    `json:"MsgId" xml:"MsgId"`
	Encrypt      string   `json:"Encrypt" xml:"Encrypt"`
	MsgSignature string   `json:"MsgSignature" xml:"MsgSignature"`
	TimeStamp    string   `json:"TimeStamp" xml:"TimeStamp"`
	Nonce        string   `json:"Nonce" xml:"Nonce"`
}

func (w wire) message() Message {
	return Message{ToUserName: w.ToUserName, FromUserName: w.FromUserName, CreateTime: w.CreateTime,
		MsgType: w.MsgType, Content: w.Content, PicURL: w.PicURL, MsgID: w.MsgID}
}

func parseWire(f Format, body []byte) (wire, error) {
	var w wire
	var err error
	if f == FormatJSON {
		err = json.Unmarshal(body, &w)
	} else {
		err = xml.Unmarshal(body, &w)
	}
	if err != nil {
		return wire{}, fmt.Errorf("body is not a %s push: %w", f, err)
	}
	return w, nil
}

// ParseMessage reads a plain message in format f (the content of a plain push, or what Decrypt
// returns).
func ParseMessage(f Format, b []byte) (Message, error) {
	w, err := parseWire(f, b)
	if err != nil {
		return Message{}, err
	}
	return w.message(), nil
}
