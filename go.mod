module github.com/asynclab/asynclab

go 1.26.0

require (
	github.com/a-h/templ v0.3.1100
	github.com/go-chi/chi/v5 v5.5.0
	github.com/google/go-cmp v0.7.0
	github.com/yuin/goldmark v1.8.7
	golang.org/x/sys v0.50.0
)
