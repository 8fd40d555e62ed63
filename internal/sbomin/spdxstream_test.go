package sbomin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sameSPDXAsLibrary checks the streaming SPDX reader against the whole
// read through tools-golang: where it streams, the same document; either
// way, ReadFile gives what the whole read gives.
func sameSPDXAsLibrary(t *testing.T, b []byte) (streamed bool) {
	t.Helper()
	doc, err := streamSPDXJSON(context.Background(), bytes.NewReader(b))
	if err == nil {
		whole, werr := decode(b)
		if werr != nil {
			t.Fatalf("streamed, but the whole read fails: %v", werr)
		}
		if !reflect.DeepEqual(whole, doc) {
			t.Fatalf("whole:\n%+v\nstreamed:\n%+v", whole, doc)
		}
	}
	sameAsWhole(t, b)
	return err == nil
}

func TestSPDXStreamSameAsLibrary(t *testing.T) {
	const head = `{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "doc", `
	pkg := func(id, name, purl string) string {
		return `{"SPDXID": "SPDXRef-` + id + `", "name": "` + name + `", "versionInfo": "1.0-r0", "licenseDeclared": "LicenseRef-x",
		  "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "` + purl + `"}]}`
	}
	inputs := append(cdxSeeds(t),
		[]byte(head+`"packages": [`+pkg("a", "a", "pkg:apk/alpine/a@1.0-r0")+`]}`),
		[]byte(`{"packages": [`+pkg("a", "a", "pkg:apk/alpine/a@1.0-r0")+`, null, `+pkg("img", "app", "pkg:oci/app@sha256%3Aab")+`],
		  "relationships": [null, {"spdxElementId": "SPDXRef-a", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-b"}],
		  "hasExtractedLicensingInfos": [{"licenseId": "LicenseRef-x", "extractedText": "x", "name": "The X licence"}],
		  "documentDescribes": ["SPDXRef-img"], "name": "late", "SPDXID": "SPDXRef-DOCUMENT", "spdxVersion": "SPDX-2.3"}`),
		[]byte(`{"packages": [`+pkg("a", "a", "pkg:apk/alpine/a@1.0-r0")+`, `+pkg("img", "app", "pkg:oci/app@sha256%3Aab")+`],
		  "relationships": [null, {"spdxElementId": "SPDXRef-a", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-b"}],
		  "hasExtractedLicensingInfos": [{"licenseId": "LicenseRef-x", "extractedText": "x", "name": "The X licence"}],
		  "documentDescribes": ["SPDXRef-img"], "name": "late", "SPDXID": "SPDXRef-DOCUMENT", "spdxVersion": "SPDX-2.3"}`),
		[]byte(head+`"packages": [`+pkg("b", "b", "pkg:npm/b@1")+`, {"SPDXID": "SPDXRef-os", "name": "alpine", "versionInfo": "3.20", "primaryPackagePurpose": "OPERATING-SYSTEM"},
		  {"SPDXID": "SPDXRef-a", "name": "a", "versionInfo": "1", "hasFiles": ["SPDXRef-b"], "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:apk/alpine/a@1"}]}]}`),
		[]byte(head+`"packages": [{"SPDXID": "SPDXRef-a", "name": 5}]}`),
		[]byte(head+`"packages": {}}`),
		[]byte(head+`"packages": null, "files": [{"fileName": 5}]}`),
		[]byte(head+`"packages": [], "Packages": [`+pkg("a", "a", "pkg:npm/a@1")+`]}`),
		[]byte(head+`"packages": [], "packages": [`+pkg("a", "a", "pkg:npm/a@1")+`]}`),
		[]byte(head+`"packages": []} trailing`),
		[]byte(head+`"packages": [`),
		[]byte(`{"spdxVersion": "SPDX-2.2", "SPDXID": "SPDXRef-DOCUMENT", "packages": [`+pkg("a", "a", "pkg:npm/a@1")+`]}`),
		[]byte(`{"spdxVersion": "SPDX-3.0", "packages": []}`),
		[]byte(`{"spdxVersion": 3, "packages": []}`),
		[]byte(head+`"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}`),
		[]byte("\xef\xbb\xbf"+head+`"packages": []}`),
	)
	for _, name := range []string{"syft-rpm.spdx.json", "trivy-debian.spdx.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	streamed := 0
	for i, b := range inputs {
		t.Run(strings.ReplaceAll(string(b[:min(len(b), 30)]), "/", "_")+"_"+string(rune('a'+i%26)), func(t *testing.T) {
			if sameSPDXAsLibrary(t, b) {
				streamed++
			}
		})
	}
	// Vigil's, Syft's and Trivy's SBOMs and the first four above but one.
	if streamed < 6 {
		t.Errorf("only %d inputs took the streaming path", streamed)
	}
}

func FuzzSPDXStream(f *testing.F) {
	for _, b := range cdxSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameSPDXAsLibrary(t, b)
	})
}
