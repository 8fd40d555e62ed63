package sbomin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	spdxcommon "github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// spdxKeys are the SPDX 2.3 JSON keys fromSPDX reads; the streaming
// reader decodes them itself. Any other key is decoded into a
// spdx.Document on its own, so a type error is still an error.
var spdxKeys = map[string]bool{
	"spdxVersion": true, "SPDXID": true, "name": true, "documentDescribes": true,
	"packages": true, "relationships": true, "hasExtractedLicensingInfos": true,
}

// streamSPDXJSON reads an SPDX 2.3 JSON document in one pass, one package
// and one relationship at a time, each kept only in the compact form
// fromSPDX uses: tools-golang decodes the whole document (twice: once into
// generic maps to find the version), which took 815 MB for a 64 MB SBOM.
// Anything the whole read might treat differently — another version
// (2.1 and 2.2 are converted by the library), keys that differ only in
// case, duplicate keys, trailing data, any error — returns an error, and
// the caller reads the input whole, so results and messages stay those of
// the library.
func streamSPDXJSON(ctx context.Context, r io.Reader) (doc *document, err error) {
	defer func() {
		if recover() != nil {
			doc, err = nil, errNotStreamed
		}
	}()
	dec, err := openObjectStream(r)
	if err != nil {
		return nil, err
	}
	var (
		c         spdxCollector
		version   string
		docID     spdxcommon.ElementID
		describes []spdxcommon.DocElementID
		hasFiles  []*spdx.Relationship
		seenKeys  = map[string]bool{}
	)
	for dec.More() {
		key, err := nextKey(ctx, dec)
		if err != nil {
			return nil, err
		}
		lower := strings.ToLower(key)
		if seenKeys[lower] {
			return nil, errNotStreamed // json.Unmarshal's last-wins and case folding, left to it
		}
		seenKeys[lower] = true
		switch lower {
		case "bomformat", "schema_version", "tool", "@context":
			return nil, errNotStreamed // CycloneDX, Vigil's JSON or JSON-LD
		}
		if !spdxKeys[key] {
			for k := range spdxKeys {
				if strings.EqualFold(k, key) {
					return nil, errNotStreamed
				}
			}
		}
		switch key {
		case "spdxVersion":
			err = dec.Decode(&version)
		case "SPDXID":
			err = dec.Decode(&docID)
		case "name":
			err = dec.Decode(&c.name)
		case "documentDescribes":
			err = dec.Decode(&describes)
		case "packages":
			c.grow(sizeHint(ctx, r, key))
			err = streamArray(ctx, dec, func() error {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return err
				}
				var p *spdx.Package
				if err := json.Unmarshal(raw, &p); err != nil {
					return err
				}
				if p == nil {
					return errNotStreamed // tools-golang fails on it
				}
				// hasFiles becomes CONTAINS relationships, after all others.
				var files struct {
					HasFiles []spdxcommon.DocElementID `json:"hasFiles"`
				}
				if json.Unmarshal(raw, &files) == nil {
					for _, f := range files.HasFiles {
						hasFiles = append(hasFiles, &spdx.Relationship{RefA: spdxcommon.DocElementID{ElementRefID: p.PackageSPDXIdentifier}, RefB: f, Relationship: "CONTAINS"})
					}
				}
				c.addPackage(p)
				// The described image, when it is among them, is no package.
				return checkPackages(ctx, c.packages())
			})
		case "relationships":
			err = streamArray(ctx, dec, func() error {
				var r *spdx.Relationship
				if err := dec.Decode(&r); err != nil {
					return err
				}
				c.addRelationship(r)
				return nil
			})
		case "hasExtractedLicensingInfos":
			err = streamArray(ctx, dec, func() error {
				var l *spdx.OtherLicense
				if err := dec.Decode(&l); err != nil {
					return err
				}
				if l == nil {
					return errNotStreamed // left to tools-golang
				}
				c.addLicense(l)
				return nil
			})
		default:
			var raw json.RawMessage
			if err = dec.Decode(&raw); err == nil {
				keyJSON, _ := json.Marshal(key)
				var d spdx.Document
				err = json.Unmarshal([]byte(`{`+string(keyJSON)+`:`+string(raw)+`}`), &d)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errNotStreamed // trailing data: the whole read says what
	}
	if version != spdx.Version {
		return nil, fmt.Errorf("spdxVersion %q: %w", version, errNotStreamed)
	}
	// tools-golang turns documentDescribes into DESCRIBES relationships
	// from the document.
	for _, id := range describes {
		c.addRelationship(&spdx.Relationship{RefA: spdxcommon.DocElementID{ElementRefID: docID}, RefB: id, Relationship: "DESCRIBES"})
	}
	for _, r := range hasFiles {
		c.addRelationship(r)
	}
	return c.document(), nil
}
