package sbomin

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"unicode"

	"github.com/spdx/tools-golang/tagvalue"
)

// tagValuePiece is the size of the pieces streamSPDXTagValue hands to
// tools-golang.
const tagValuePiece = 1 << 20

// streamSPDXTagValue reads an SPDX tag-value document a piece at a time.
// tools-golang lexes the whole input into tag-value pairs and then parses
// them into one document, all held at once, and neither its lexer
// (reader.ReadTagValues) nor its parsers (ParseTagValues) keep state
// between calls, so they cannot be fed a stream. Instead the input is cut
// before a "PackageName:" line where the library's parser starts a fresh
// package anyway (in a package, file or snippet section, the current
// package named), and each piece is read by tagvalue.Read on its own, with
// the document's SPDXVersion line in front. The lines are scanned here
// only to find those cuts: multi-line <text>…</text> values as the
// library's lexer reads them, and the section the parser is in. Anything
// the whole read might treat differently — not tag-value as decode
// detects it, an unsupported version, any error — returns an error, and
// the caller reads the input whole, so results and messages stay those of
// the library.
func streamSPDXTagValue(ctx context.Context, r io.Reader) (*document, error) {
	return streamSPDXTagValuePieces(ctx, r, tagValuePiece)
}

func streamSPDXTagValuePieces(ctx context.Context, r io.Reader, pieceSize int) (doc *document, err error) {
	defer func() {
		if recover() != nil {
			doc, err = nil, errNotStreamed
		}
	}()
	br := bufio.NewReaderSize(ctxReader{ctx, r}, 64<<10)
	if first, err := firstByte(br); err != nil || strings.IndexByte("{[<", first) >= 0 {
		return nil, errNotStreamed
	}
	var c spdxCollector
	c.grow(tagValueSizeHint(ctx, r))
	var (
		piece   bytes.Buffer
		version string
		pieces  int
		midtext bool
		// canCut: a PackageName pair here starts a fresh package in
		// the parser (a package, file or snippet section whose package,
		// if any, has a name).
		canCut bool
		// sections: a package or file section was entered; closed: an
		// other-licence or review section was, after which no package
		// may come.
		sections, closed bool
	)
	flush := func() error {
		in := io.Reader(bytes.NewReader(piece.Bytes()))
		if pieces > 0 {
			in = io.MultiReader(strings.NewReader("SPDXVersion: "+version+"\n"), in)
		}
		d, err := tagvalue.Read(in)
		if err != nil {
			return err
		}
		if pieces == 0 {
			c.name = d.DocumentName
		}
		for _, rel := range d.Relationships {
			c.addRelationship(rel)
		}
		for _, l := range d.OtherLicenses {
			c.addLicense(l)
		}
		for _, p := range d.Packages {
			c.addPackage(p)
		}
		piece.Reset()
		pieces++
		return checkPackages(ctx, c.packages())
	}
	// The same line splitting as tools-golang's lexer (bufio.Scanner, 64
	// KiB lines at most).
	sc := bufio.NewScanner(br)
	for sc.Scan() {
		line := sc.Bytes()
		if midtext {
			midtext = !bytes.Contains(line, []byte("</text>"))
			piece.Write(line)
			piece.WriteByte('\n')
			continue
		}
		text := bytes.TrimLeftFunc(line, unicode.IsSpace)
		if len(text) == 0 || text[0] == '#' {
			piece.Write(line)
			piece.WriteByte('\n')
			continue
		}
		tagB, rest, ok := bytes.Cut(text, []byte(":"))
		if !ok {
			return nil, errNotStreamed // the library's "no colon found"
		}
		tag := string(bytes.TrimSpace(tagB))
		var value string
		if before, after, isText := bytes.Cut(rest, []byte("<text>")); !isText {
			value = string(bytes.TrimSpace(before))
		} else if v, _, closes := bytes.Cut(after, []byte("</text>")); closes {
			value = string(v)
		} else {
			midtext, value = true, "\n" // a multi-line value is never empty
		}
		if version == "" {
			// decode's isTagValue: the first line is "SPDXVersion:".
			if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("SPDXVersion:")) {
				return nil, errNotStreamed
			}
			switch value {
			case "SPDX-2.1", "SPDX-2.2", "SPDX-2.3":
				version = value
			default:
				return nil, errNotStreamed
			}
		}
		if tag == "PackageName" && canCut && piece.Len() >= pieceSize {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		piece.Write(line)
		piece.WriteByte('\n')
		switch tag {
		case "PackageName":
			sections = true
			canCut = !closed && value != ""
		case "FileName":
			if !sections {
				canCut = !closed // an unpackaged file: no current package
			}
			sections = true
		case "LicenseID", "Reviewer":
			closed, canCut = true, false
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if version == "" {
		return nil, errNotStreamed
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return c.document(), nil
}

// streamTextSBOM streams CycloneDX XML or SPDX tag-value; anything else
// is errNotStreamed.
func streamTextSBOM(ctx context.Context, f io.ReadSeeker) (*document, error) {
	doc, err := streamCycloneDXXML(ctx, f)
	if err == nil || stopReading(ctx, err) != nil {
		return doc, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return streamSPDXTagValue(ctx, f)
}
