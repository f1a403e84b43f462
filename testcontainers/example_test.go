package smartappmock_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"

	"github.com/testcontainers/testcontainers-go"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/store"
	smartappmock "github.com/smartappmock/smartappmock/testcontainers"
)

// Start the fake for a test, point the client under test at URL, and read back what it sent.
func ExampleRun() {
	ctx := context.Background()
	ctr, err := smartappmock.Run(ctx, image) // image: "smartappmock:latest", or your registry's name
	defer func() {
		if err := testcontainers.TerminateContainer(ctr); err != nil {
			log.Printf("terminate: %v", err)
		}
	}()
	if err != nil {
		log.Fatal(err)
	}
	base, err := ctr.URL(ctx) // instead of https://openapi.baidu.com
	if err != nil {
		log.Fatal(err)
	}

	// What your client does: a token, then a customer-service message.
	resp, err := http.Get(base + "/oauth/2.0/token?grant_type=client_credentials&client_id=my-app-key&client_secret=my-app-secret")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.PostForm(base+"/rest/2.0/smartapp/message/custom/send?access_token=error_code_110",
		url.Values{"user_type": {"1"}, "open_id": {"user-1"}, "msg_type": {"text"}, "content": {"hi"}})
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))

	// The journal says what was sent and why the answer was what it was.
	adm, err := ctr.Admin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	entries, err := adm.Requests(ctx, store.Query{OpenID: "user-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(entries), "journal entry for user-1")
	// Output:
	// 200 {"error_code":110,"error_msg":"Access token invalid or no longer valid"}
	// 1 journal entry for user-1
}

// A strict fake: a configuration file (as for smartappmock serve --config) with one more app,
// and an admin token.
func ExampleWithConfigFile() {
	ctx := context.Background()
	ctr, err := smartappmock.Run(ctx, image,
		smartappmock.WithConfigFile("../deploy/compose/smartappmock.yaml"),
		smartappmock.WithApps(config.App{ID: "30001", ClientID: "my-app-key", ClientSecret: "my-app-secret"}),
		smartappmock.WithAdminToken("test-only-token"),
	)
	defer func() { _ = testcontainers.TerminateContainer(ctr) }()
	if err != nil {
		log.Fatal(err)
	}
	adm, err := ctr.Admin(ctx) // sends the admin token
	if err != nil {
		log.Fatal(err)
	}
	apps, err := adm.Apps(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range apps.Apps {
		fmt.Println(a.ID)
	}
	// Unordered output:
	// 20001
	// 30001
}

// Over HTTPS, for a client that insists on it: TLSConfig trusts the fake's own CA.
func ExampleContainer_TLSConfig() {
	ctx := context.Background()
	ctr, err := smartappmock.Run(ctx, image, smartappmock.WithTLS())
	defer func() { _ = testcontainers.TerminateContainer(ctr) }()
	if err != nil {
		log.Fatal(err)
	}
	base, err := ctr.HTTPSURL(ctx)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := ctr.TLSConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	resp, err := client.Get(base + "/__admin/health")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
