package sbomin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/jsontok"
)

// errNotStreamed: the input is not a CycloneDX JSON document the streaming
// reader takes; it is read whole instead.
var errNotStreamed = errors.New("not streamed")

// notStreamed is errNotStreamed for an input of a format the streaming
// readers take, with why this one is not streamed: ReadFile says it when
// the input is too large to read whole.
func notStreamed(reason string) error {
	return fmt.Errorf("%s: %w", reason, errNotStreamed)
}

// openObjectStream starts a streamed read of a JSON object: a byte-order
// mark or anything but an object is left to the whole read.
func openObjectStream(r io.Reader) (*json.Decoder, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); string(b) == "\xef\xbb\xbf" {
		return nil, errNotStreamed
	}
	dec := json.NewDecoder(br)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNotStreamed
	}
	return dec, nil
}

// nextKey reads the next key of the object being streamed, giving up when
// ctx is done.
func nextKey(ctx context.Context, dec *json.Decoder) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, _ := tok.(string)
	return key, nil
}

// cdxArrays are the CycloneDX JSON keys whose arrays can be large; their
// elements are decoded (so a type error is still an error) one at a time.
var cdxArrays = map[string]func() any{
	"services":           func() any { return new(cdx.Service) },
	"externalReferences": func() any { return new(cdx.ExternalReference) },
	"dependencies":       func() any { return new(cdx.Dependency) },
	"compositions":       func() any { return new(cdx.Composition) },
	"properties":         func() any { return new(cdx.Property) },
	"vulnerabilities":    func() any { return new(cdx.Vulnerability) },
	"annotations":        func() any { return new(cdx.Annotation) },
}

// streamCycloneDXJSON reads a CycloneDX JSON SBOM in one pass without
// holding it: each top-level component (with its nested ones) is decoded
// and turned into entries on its own, so memory is that of the entries, not
// of the document and its cdx.BOM (a 64 MB SBOM of 122,000 components took
// 536 MB whole). The other keys are decoded into a cdx.BOM as before, large
// arrays element by element. Anything else — another format, Vigil's own
// JSON, any error — returns errNotStreamed or an error, and the caller reads
// the input whole, so formats and error messages stay those of the whole
// read.
func streamCycloneDXJSON(ctx context.Context, r io.Reader) (*document, error) {
	dec, err := openObjectStream(r)
	if err != nil {
		return nil, err
	}
	var (
		bom      cdx.BOM
		doc      = &document{}
		format   string
		spec     string
		seenKeys = map[string]bool{}
	)
	for dec.More() {
		key, err := nextKey(ctx, dec)
		if err != nil {
			return nil, err
		}
		switch key {
		case "spdxVersion", "schema_version", "tool", "packages", "@context":
			// SPDX, Vigil's JSON or JSON-LD: read whole.
			return nil, errNotStreamed
		}
		if seenKeys[key] {
			return nil, notStreamed(fmt.Sprintf("the key %q is repeated", key)) // json.Unmarshal's last-wins, left to it
		}
		seenKeys[key] = true
		switch {
		case key == "components":
			doc.pkgs.grow(sizeHint(ctx, r, key))
			err = streamArray(ctx, dec, func() error {
				var c cdx.Component
				if err := dec.Decode(&c); err != nil {
					return err
				}
				addComponents(doc, []cdx.Component{c})
				return checkPackages(ctx, len(doc.pkgs.pkgs))
			})
		case cdxArrays[key] != nil:
			err = streamArray(ctx, dec, func() error { return dec.Decode(cdxArrays[key]()) })
		default:
			var raw json.RawMessage
			if err = dec.Decode(&raw); err == nil {
				err = decodeBOMKey(&bom, key, raw)
			}
			switch key {
			case "bomFormat":
				_ = json.Unmarshal(raw, &format)
			case "specVersion":
				_ = json.Unmarshal(raw, &spec)
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
		return nil, notStreamed("data follows the JSON object") // the whole read says what
	}
	if format != "CycloneDX" {
		return nil, errNotStreamed
	}
	switch spec {
	case "1.2", "1.3", "1.4", "1.5", "1.6", "1.7":
	default:
		return nil, notStreamed(fmt.Sprintf("specVersion %q is not one of 1.2 to 1.7", spec))
	}
	if bom.Metadata != nil {
		doc.vigil = writtenByVigil(bom.Metadata.Tools)
		if bom.Metadata.Component != nil {
			imageFromComponent(doc, bom.Metadata.Component)
		}
	}
	return doc, nil
}

// streamArray calls each for every element of the array that is the next
// value (null is empty).
func streamArray(ctx context.Context, dec *json.Decoder, each func() error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("not an array: %w", errNotStreamed)
	}
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := each(); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

// decodeBOMKey decodes one top-level key's value into bom, as json.Unmarshal
// of the whole document would.
func decodeBOMKey(bom *cdx.BOM, key string, raw json.RawMessage) error {
	return decodeKey(bom, key, raw)
}

// decodeKey decodes one top-level key's value into v.
func decodeKey(v any, key string, raw json.RawMessage) error {
	k, err := json.Marshal(key)
	if err != nil {
		return err
	}
	obj := make([]byte, 0, len(k)+len(raw)+3)
	obj = append(append(append(append(obj, '{'), k...), ':'), raw...)
	return json.Unmarshal(append(obj, '}'), v)
}

// streamVigilJSON reads Vigil's own JSON (a report or an inventory) in one
// pass, package by package, under the same rule as streamCycloneDXJSON:
// anything it does not take, and any error, leaves the input to the whole
// read.
func streamVigilJSON(ctx context.Context, r io.Reader) (*inventory.Inventory, error) {
	dec, err := openObjectStream(r)
	if err != nil {
		return nil, err
	}
	var (
		inv         inventory.Inventory
		tool        string
		sawPackages bool
		seenKeys    = map[string]bool{}
		in          interner
	)
	for dec.More() {
		key, err := nextKey(ctx, dec)
		if err != nil {
			return nil, err
		}
		if seenKeys[key] {
			return nil, errNotStreamed
		}
		seenKeys[key] = true
		switch key {
		case "bomFormat", "spdxVersion", "@context":
			return nil, errNotStreamed
		case "tool":
			var t struct {
				Name string `json:"name"`
			}
			err = dec.Decode(&t)
			tool = t.Name
		case "packages":
			sawPackages = true
			// Every element is a package: too many is known before reading them.
			n := sizeHint(ctx, r, key)
			if err := checkPackages(ctx, n); err != nil {
				return nil, err
			}
			inv.Packages = slices.Grow(inv.Packages, n)
			err = streamArray(ctx, dec, func() error {
				var p inventory.Package
				if err := dec.Decode(&p); err != nil {
					return err
				}
				in.pkg(&p)
				inv.Packages = append(inv.Packages, p)
				return checkPackages(ctx, len(inv.Packages))
			})
		case "schema_version", "artifact", "files", "warnings":
			var raw json.RawMessage
			if err = dec.Decode(&raw); err == nil {
				err = decodeKey(&inv, key, raw)
			}
		default:
			err = jsontok.SkipValue(dec)
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errNotStreamed
	}
	if tool != "vigil" || inv.SchemaVersion == "" || !sawPackages {
		return nil, errNotStreamed
	}
	if err := checkVigilInventory(&inv); err != nil {
		return nil, err
	}
	return &inv, nil
}
