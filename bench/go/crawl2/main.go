// crawl2 — the book's gopl.io/ch8/crawl2 with gopl.io/ch5/links.Extract, for
// bench/crawl_run: the same crawl as `chanlab demo crawl` on the same site.
// Three changes, each what chanlab's crawler does too, so both fetch the same
// pages: links keep to the seeds' hosts (the book's exercise 8.7; no packet
// leaves the machine), fragments are dropped (one page, one URL), and a
// response that is not text/html is not parsed.
//
// Built offline against Debian's golang-golang-x-net-dev:
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o crawl2 main.go
package main

import (
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/net/html"
)

// Extract makes an HTTP GET request to the specified URL, parses the
// response as HTML, and returns the links in the HTML document.
func Extract(rawurl string) ([]string, error) {
	resp, err := http.Get(rawurl)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("getting %s: %s", rawurl, resp.Status)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		resp.Body.Close()
		return nil, nil
	}
	doc, err := html.Parse(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("parsing %s as HTML: %v", rawurl, err)
	}
	var links []string
	visitNode := func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			for _, a := range n.Attr {
				if a.Key != "href" {
					continue
				}
				link, err := resp.Request.URL.Parse(strings.TrimSpace(a.Val))
				if err != nil {
					continue // ignore bad URLs
				}
				link.Fragment = ""
				if !hosts[link.Host] || (link.Scheme != "http" && link.Scheme != "https") {
					continue
				}
				links = append(links, link.String())
			}
		}
	}
	forEachNode(doc, visitNode, nil)
	return links, nil
}

func forEachNode(n *html.Node, pre, post func(n *html.Node)) {
	if pre != nil {
		pre(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		forEachNode(c, pre, post)
	}
	if post != nil {
		post(n)
	}
}

var hosts = map[string]bool{}

// tokens is a counting semaphore used to
// enforce a limit of 20 concurrent requests.
var tokens = make(chan struct{}, 20)

func crawl(url string) []string {
	fmt.Println(url)
	tokens <- struct{}{} // acquire a token
	list, err := Extract(url)
	<-tokens // release the token

	if err != nil {
		log.Print(err)
	}
	return list
}

func main() {
	for _, arg := range os.Args[1:] {
		u, err := url.Parse(arg)
		if err != nil {
			log.Fatal(err)
		}
		hosts[u.Host] = true
	}
	worklist := make(chan []string)
	var n int // number of pending sends to worklist

	// Start with the command-line arguments.
	n++
	go func() { worklist <- os.Args[1:] }()

	// Crawl the web concurrently.
	seen := make(map[string]bool)
	for ; n > 0; n-- {
		list := <-worklist
		for _, link := range list {
			if !seen[link] {
				seen[link] = true
				n++
				go func(link string) {
					worklist <- crawl(link)
				}(link)
			}
		}
	}
}
