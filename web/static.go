package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// staticFiles holds the browser's code and styles: the editor bundle built
// from npm (see web/editor), the timeline and the page scripts. They are
// embedded, so the server needs neither Node nor the files on disk.
//
//go:embed static
var staticFiles embed.FS

// staticHandler serves the files of /static/, and no folder listings. The files change only with the binary, so
// a browser may keep them for an hour; pages add ?v= to bust the cache.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: a folder's listing is nobody's business.
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if fi, err := fs.Stat(sub, strings.TrimSuffix(name, "/")); name == "" || err != nil || fi.IsDir() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
