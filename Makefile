# The two commands of the README: `make run` serves leadcycle on the embedded
# database in ./leadcycle-data; `make test` runs every test (PostgreSQL ones
# too when LEADCYCLE_TEST_POSTGRES holds a URL).
.PHONY: run test build bench

run:
	go run ./cmd/leadcycle serve

test:
	go test -count=1 -timeout 30m ./...

build:
	go build -o leadcycle ./cmd/leadcycle

bench:
	go run ./bench/api -out bench/api-results.md
