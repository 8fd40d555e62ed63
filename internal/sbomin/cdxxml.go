package sbomin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"reflect"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// cdxNamespace must appear in a CycloneDX XML document (decodeCycloneDXXML).
const cdxNamespace = "cyclonedx.org/schema/bom"

// cdxXMLArrays maps each wrapper element of cdx.BOM's XML lists other than
// components ("dependencies" for dependencies>dependency, ...) to its item
// element and Go type, read from cyclonedx-go's own struct tags so the two
// cannot drift apart.
var cdxXMLArrays = func() map[string]cdxXMLArray {
	out := map[string]cdxXMLArray{}
	t := reflect.TypeFor[cdx.BOM]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("xml"), ",")
		parent, item, ok := strings.Cut(name, ">")
		if !ok || parent == "components" || f.Type.Kind() != reflect.Pointer || f.Type.Elem().Kind() != reflect.Slice {
			continue
		}
		out[parent] = cdxXMLArray{item: item, typ: f.Type.Elem().Elem()}
	}
	return out
}()

type cdxXMLArray struct {
	item string
	typ  reflect.Type
}

// streamCycloneDXXML reads a CycloneDX XML SBOM in one pass without holding
// it: encoding/xml's Decoder feeds cdx.BOM's own decoding (so attributes,
// metadata and errors are cyclonedx-go's), except that each <component> of
// <components> is decoded on its own into a cdx.Component and turned into
// entries at once, and the items of the other lists (dependencies,
// services, vulnerabilities, ...) are decoded one at a time, so a type
// error is still an error, and dropped. Anything the whole read might
// treat differently (a byte-order mark, any error, no CycloneDX namespace
// anywhere in the input) returns an error, and the caller reads the input
// whole, so results and messages stay those of the whole read.
func streamCycloneDXXML(ctx context.Context, r io.Reader) (*document, error) {
	ns := &needleReader{r: ctxReader{ctx, r}, needle: []byte(cdxNamespace)}
	br := bufio.NewReaderSize(ns, 64<<10)
	if first, err := firstByte(br); err != nil || first != '<' {
		return nil, errNotStreamed
	}
	doc := &document{}
	f := &cdxXMLFilter{ctx: ctx, dec: xml.NewDecoder(br), doc: doc}
	var bom cdx.BOM
	if err := xml.NewTokenDecoder(f).Decode(&bom); err != nil {
		return nil, err
	}
	if !ns.found {
		// The whole read looks for the namespace anywhere in the input.
		if _, err := io.Copy(io.Discard, br); err != nil {
			return nil, err
		}
		if !ns.found {
			return nil, notStreamed("no CycloneDX namespace (" + cdxNamespace + "…) in the XML")
		}
	}
	if bom.Metadata != nil {
		doc.vigil = writtenByVigil(bom.Metadata.Tools)
		if bom.Metadata.Component != nil {
			imageFromComponent(doc, bom.Metadata.Component)
		}
	}
	return doc, nil
}

// firstByte returns the first byte that is not JSON-style white space (the
// whole read's test for the format), or errNotStreamed for a byte-order
// mark, which the whole read removes.
func firstByte(br *bufio.Reader) (byte, error) {
	if b, _ := br.Peek(3); string(b) == "\xef\xbb\xbf" {
		return 0, errNotStreamed
	}
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if err == nil {
				err = errNotStreamed
			}
			return 0, err
		}
		if c := b[n-1]; !strings.ContainsRune(" \t\r\n", rune(c)) {
			return c, nil
		}
		if n == br.Size() {
			return 0, errNotStreamed
		}
	}
}

// cdxXMLFilter hands the tokens of a CycloneDX XML document to cdx.BOM's
// decoding, less the lists it reads itself.
type cdxXMLFilter struct {
	ctx   context.Context
	dec   *xml.Decoder
	doc   *document
	depth int
}

func (f *cdxXMLFilter) Token() (xml.Token, error) {
	for {
		if err := f.ctx.Err(); err != nil {
			return nil, err
		}
		tok, err := f.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if f.depth == 1 { // a child of <bom>
				if t.Name.Local == "components" {
					if err := f.list("component", func(start *xml.StartElement) error {
						var c cdx.Component
						if err := f.dec.DecodeElement(&c, start); err != nil {
							return err
						}
						addComponents(f.doc, []cdx.Component{c})
						return nil
					}); err != nil {
						return nil, err
					}
					continue
				}
				if a, ok := cdxXMLArrays[t.Name.Local]; ok {
					if err := f.list(a.item, func(start *xml.StartElement) error {
						return f.dec.DecodeElement(reflect.New(a.typ).Interface(), start)
					}); err != nil {
						return nil, err
					}
					continue
				}
			}
			f.depth++
		case xml.EndElement:
			f.depth--
		}
		return xml.CopyToken(tok), nil
	}
}

// list reads the rest of a list's wrapper element as encoding/xml reads a
// "wrapper>item" field: each item element goes to each, anything else is
// skipped.
func (f *cdxXMLFilter) list(item string, each func(*xml.StartElement) error) error {
	for {
		if err := f.ctx.Err(); err != nil {
			return err
		}
		tok, err := f.dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == item {
				err = each(&t)
			} else {
				err = f.dec.Skip()
			}
			if err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// needleReader notes whether needle occurs in what is read through it.
type needleReader struct {
	r      io.Reader
	needle []byte
	tail   []byte // the last len(needle)-1 bytes read
	found  bool
}

func (n *needleReader) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	if !n.found && k > 0 {
		keep := len(n.needle) - 1
		buf := append(n.tail, p[:min(k, keep)]...)
		n.found = bytes.Contains(buf, n.needle) || bytes.Contains(p[:k], n.needle)
		if k >= keep {
			n.tail = append(n.tail[:0], p[k-keep:k]...)
		} else {
			n.tail = append(n.tail[:0], buf[max(0, len(buf)-keep):]...)
		}
	}
	return k, err
}
