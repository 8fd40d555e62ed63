package sbomin

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/tagvalue"
)

// The corpus holds no CycloneDX XML or SPDX tag-value SBOM, so the real
// SBOMs of testdata (Trivy's and Syft's) and Vigil's own output are
// re-encoded into them by cyclonedx-go and tools-golang.

// xmlSeeds are CycloneDX XML documents: testdata's, and every CycloneDX
// JSON SBOM of testdata and of Vigil encoded as XML by cyclonedx-go.
func xmlSeeds(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, b := range cdxSeeds(t) {
		if bytes.HasPrefix(bytes.TrimSpace(b), []byte("<")) {
			out = append(out, b)
			continue
		}
		var bom cdx.BOM
		if json.Unmarshal(b, &bom) != nil || bom.BOMFormat != "CycloneDX" {
			continue
		}
		var buf bytes.Buffer
		if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatXML).SetPretty(true).EncodeVersion(&bom, bom.SpecVersion); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	if len(out) < 4 {
		t.Fatalf("%d CycloneDX XML seeds", len(out))
	}
	return out
}

// tagValueSeeds are SPDX tag-value documents: testdata's, and every SPDX
// JSON SBOM of testdata and of Vigil written as tag-value by tools-golang.
func tagValueSeeds(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, b := range cdxSeeds(t) {
		if bytes.HasPrefix(b, []byte("SPDXVersion:")) {
			out = append(out, b)
			continue
		}
		if !bytes.Contains(b, []byte(`"spdxVersion"`)) {
			continue
		}
		d, err := spdxjson.Read(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := tagvalue.Write(d, &buf); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	if len(out) < 4 {
		t.Fatalf("%d tag-value seeds", len(out))
	}
	return out
}

// sameXMLAsLibrary checks the streaming XML reader against cyclonedx-go's
// decoding of the whole document: where it streams, the same document, and
// where the whole read fails, no stream. With viaFile, ReadFile must also
// give what the whole read gives (the fuzz targets leave that out: it
// writes a file per input, which made fuzzing crawl).
func sameXMLAsLibrary(t *testing.T, b []byte, viaFile bool) (streamed bool) {
	t.Helper()
	doc, err := streamCycloneDXXML(context.Background(), bytes.NewReader(b))
	if err == nil {
		whole, werr := decode(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
		if werr != nil {
			t.Fatalf("streamed, but the whole read fails: %v", werr)
		}
		if !reflect.DeepEqual(whole, doc) {
			t.Fatalf("whole:\n%+v\nstreamed:\n%+v", whole, doc)
		}
	}
	if viaFile {
		sameAsWhole(t, b)
	}
	return err == nil
}

// sameTagValueAsLibrary is sameXMLAsLibrary for tag-value, cutting the
// document at every place the streaming reader may.
func sameTagValueAsLibrary(t *testing.T, b []byte, viaFile bool) (streamed bool) {
	t.Helper()
	for _, piece := range []int{1, 300, tagValuePiece} {
		doc, err := streamSPDXTagValuePieces(context.Background(), bytes.NewReader(b), piece)
		if err == nil {
			whole, werr := decode(b)
			if werr != nil {
				t.Fatalf("streamed (pieces of %d), but the whole read fails: %v", piece, werr)
			}
			if !reflect.DeepEqual(whole, doc) {
				t.Fatalf("pieces of %d:\nwhole:\n%+v\nstreamed:\n%+v", piece, whole, doc)
			}
		}
		streamed = err == nil
	}
	if viaFile {
		sameAsWhole(t, b)
	}
	return streamed
}

func TestCycloneDXXMLStreamSameAsLibrary(t *testing.T) {
	for i, b := range xmlSeeds(t) {
		if !sameXMLAsLibrary(t, b, true) {
			t.Errorf("seed %d not streamed:\n%.300s", i, b)
		}
	}
	const head = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">`
	lib := func(name string) string {
		return `<component type="library"><name>` + name + `</name><version>1</version><purl>pkg:npm/` + name + `@1</purl></component>`
	}
	inputs := []string{
		head + `<components>` + lib("a") + `<service/>` + lib("b") + `</components><components>` + lib("c") + `</components></bom>`,
		head + `<components>` + lib("a") + `<component type="library"><name>p</name><purl>pkg:npm/p@1</purl><components>` + lib("nested") + `</components></component></components></bom>`,
		head + `<components><component type="operating-system"><name>alpine</name><version>3.20.3</version></component>` + lib("a") + `</components>
		  <metadata><tools><components><component type="application"><name>vigil</name></component></components></tools>
		  <component type="container"><name>app</name><version>sha256:00</version><properties><property name="vigil:image_id">sha256:11</property></properties></component></metadata></bom>`,
		head + `<dependencies><dependency ref="a"><dependency ref="b"/></dependency><other/></dependencies><components>` + lib("a") + `</components></bom>`,
		head + `<metadata><component type="container"><name>x</name></component></metadata><metadata><timestamp>2024-01-01T00:00:00Z</timestamp></metadata></bom>`,
		head + `<components>` + lib("a") + `</components></bom><!-- trailing --> garbage`,
		head + `<components>` + lib("a") + `</components>`,
		head + `<components>` + lib("a") + `</bom>`,
		`<bom version="x" xmlns="http://cyclonedx.org/schema/bom/1.5"><components>` + lib("a") + `</components></bom>`,
		`<other xmlns="http://cyclonedx.org/schema/bom/1.5"><components>` + lib("a") + `</components></other>`,
		`<bom><components>` + lib("a") + `</components></bom>`,
		`<bom><components>` + lib("a") + `</components></bom><!-- cyclonedx.org/schema/bom -->`,
		`<bom xmlns:c="http://cyclonedx.org/schema/bom/1.4"><c:components>` + lib("a") + `</c:components></bom>`,
		head + `<components><component type="library"><name>a</name><licenses><license><id>MIT</id></license></licenses><properties><property name="vigil:path">x</property></properties></component></components></bom>`,
		head + `<vulnerabilities><vulnerability><ratings><rating><score>high</score></rating></ratings></vulnerability></vulnerabilities></bom>`,
		"\xef\xbb\xbf" + head + `<components>` + lib("a") + `</components></bom>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5"></bom>`,
	}
	// The first six and three more stream; the others fall back to the
	// whole read (which fails on most).
	streams := map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 11: true, 12: true, 13: true}
	for i, in := range inputs {
		if got := sameXMLAsLibrary(t, []byte(in), true); got != streams[i] {
			t.Errorf("input %d streamed: %v, want %v", i, got, streams[i])
		}
	}
}

func TestSPDXTagValueStreamSameAsLibrary(t *testing.T) {
	for i, b := range tagValueSeeds(t) {
		if !sameTagValueAsLibrary(t, b, true) {
			t.Errorf("seed %d not streamed:\n%.300s", i, b)
		}
	}
	const head = "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: doc\nDocumentNamespace: https://example.com/d\nCreator: Tool: x\nCreated: 2024-05-17T10:30:00Z\n"
	pkg := func(id, name, purl string) string {
		return "\nPackageName: " + name + "\nSPDXID: SPDXRef-" + id + "\nPackageVersion: 1.0\nPackageDownloadLocation: NOASSERTION\nExternalRef: PACKAGE-MANAGER purl " + purl + "\n"
	}
	a, b, c := pkg("a", "a", "pkg:npm/a@1"), pkg("b", "b", "pkg:npm/b@1"), pkg("c", "c", "pkg:npm/c@1")
	inputs := []string{
		head + a + b + c,
		head + a + "PackageDescription: <text>line one\nPackageName: not-a-package\n</text>\n" + b + c,
		head + a + "PackageComment: layer sha256:aa created by: <text>RUN x\n</text>" + b,
		head + a + "FileName: ./f\nSPDXID: SPDXRef-f\nSnippetSPDXID: SPDXRef-s\nSnippetFromFileSPDXID: SPDXRef-f\n" + b + "FileName: ./g\n" + c,
		head + "FileName: ./f\nSPDXID: SPDXRef-f\n" + a + b,
		head + a + "PackageName:\n" + b + c,
		head + a + "PackageName: <text></text>\n" + b + c,
		head + a + "Relationship: SPDXRef-a CONTAINS SPDXRef-b\n" + b + "RelationshipComment: about the last one\n" + c + "Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-c\n",
		head + a + "Annotator: Tool: x\n" + b + "AnnotationComment: DiffID: sha256:aa\n" + c,
		head + a + "ExternalRef: PACKAGE-MANAGER purl pkg:npm/a@2\n" + b + "ExternalRefComment: x\n" + c,
		head + a + b + "LicenseID: LicenseRef-x\nExtractedText: <text>x\ny</text>\nLicenseName: The X licence\n" + c,
		head + a + b + "Reviewer: Person: x\n" + c,
		head + a + "PackageName: nameless-id\n" + b,
		head + a + "FileName: ./f\n" + b,
		head + a + "no colon here\n" + b,
		head + a + "PackageDescription: <text>never closed\n" + b,
		head + a + "PackageVersion: " + strings.Repeat("x", 70<<10) + "\n" + b,
		strings.Replace(head, "SPDX-2.3", "SPDX-2.2", 1) + a + b,
		strings.Replace(head, "SPDX-2.3", "SPDX-2.1", 1) + a + b,
		strings.Replace(head, "SPDX-2.3", "SPDX-3.0", 1) + a + b,
		strings.Replace(head, "SPDXVersion:", "SPDXVersion :", 1) + a,
		"# comment\n\n  " + head + a + b,
		"DataLicense: CC0-1.0\n" + head + a,
		head + "DocumentComment: x\nDocumentName: again\n" + a + b,
		head + a + b + "\r\n" + strings.ReplaceAll(c, "\n", "\r\n"),
		head + a + "PackageSupplier: Nobody: x\n" + b,
	}
	fallsBack := map[int]bool{3: true, 10: true, 11: true, 12: true, 13: true, 14: true, 15: true, 16: true, 19: true, 20: true, 22: true, 25: true}
	for i, in := range inputs {
		if got := sameTagValueAsLibrary(t, []byte(in), true); got == fallsBack[i] {
			t.Errorf("input %d streamed: %v, want %v", i, got, !fallsBack[i])
		}
	}
}

// ReadFile takes the streaming paths for both formats.
func TestTextSBOMsStreamed(t *testing.T) {
	for _, name := range []string{"minimal.cdx.xml", "minimal.spdx"} {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := streamTextSBOM(context.Background(), f)
		f.Close()
		if err != nil || len(doc.pkgs.pkgs) == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzCycloneDXXMLStream(f *testing.F) {
	for _, b := range xmlSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameXMLAsLibrary(t, b, false)
	})
}

func FuzzSPDXTagValueStream(f *testing.F) {
	for _, b := range tagValueSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameTagValueAsLibrary(t, b, false)
	})
}
