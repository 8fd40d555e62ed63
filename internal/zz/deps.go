// Package zz pins dependencies while the packages that use them are written. Delete when unused.
package zz

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/CycloneDX/cyclonedx-go"
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/google/osv-scalibr/semantic"
	_ "github.com/klauspost/compress/gzip"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/knqyf263/go-rpmdb/pkg"
	_ "github.com/package-url/packageurl-go"
	_ "github.com/pandatix/go-cvss/31"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/spdx/tools-golang/spdx/v2/v2_3"
	_ "github.com/spf13/cobra"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/mod/semver"
	_ "gopkg.in/yaml.v3"
	_ "modernc.org/sqlite"
)
