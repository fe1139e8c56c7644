# The lab in a container: `lab serve` on :8080. Grading builds submissions
# with the Go toolchain inside its own sandbox, so the image keeps Go and the
# module cache the engine needs. See README.md ("Container") for the flags
# io_uring and the sandbox's namespaces and cgroups need.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/lab ./cmd/lab

FROM golang:1.26-bookworm
COPY --from=build /go/pkg/mod /go/pkg/mod
COPY --from=build /out/lab /usr/local/bin/lab
ENV GOFLAGS=-mod=mod GOTOOLCHAIN=local
WORKDIR /var/lib/asynclab
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/lab"]
CMD ["serve", "--addr", ":8080", "--data", "/var/lib/asynclab"]
