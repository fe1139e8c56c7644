# Builds the lab binary. io_uring needs the container's seccomp profile to
# allow io_uring_setup/enter/register (see README.md, "Container").
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/lab ./cmd/lab

FROM debian:bookworm-slim
COPY --from=build /out/lab /usr/local/bin/lab
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/lab"]
CMD ["run", "demo", "--backend", "both"]
