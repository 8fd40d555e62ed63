package java

import (
	"bytes"
	"context"
	"testing"
)

// FuzzJar scans arbitrary bytes as a Java archive, and feeds them to the
// manifest and properties parsers.
func FuzzJar(f *testing.F) {
	pom := []byte("groupId=g\nartifactId=a\nversion=1.0\n")
	f.Add(buildZip(f, map[string][]byte{"META-INF/maven/g/a/pom.properties": pom}))
	f.Add(buildZip(f, map[string][]byte{
		"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\nBundle-SymbolicName: org.x.y\nBundle-Version: 2\n"),
		"lib/inner-1.0.jar":    buildZip(f, map[string][]byte{"META-INF/maven/g/b/pom.properties": pom}),
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		Scan(context.Background(), "x.jar", bytes.NewReader(data), int64(len(data)))
		manifestArtifact(parseManifest(data), "x-1.jar")
		pomArtifact(data)
	})
}
