// Package deps pins the project's third-party modules in go.mod while the
// packages that use them are being written. Delete it once every module
// below is imported by real code.
package deps

import (
	_ "github.com/Shopify/toxiproxy/v2"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/stretchr/testify/require"
	_ "github.com/testcontainers/testcontainers-go"
	_ "github.com/testcontainers/testcontainers-go/network"
	_ "github.com/tsenart/vegeta/v12/lib"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/net/http2"
)
