package npm

import (
	"fmt"
	"strings"
	"testing"
)

// syntheticLock builds a v3 lockfile and a yarn.lock of n packages, the
// size of a large application.
func syntheticLock(n int) (packageLock, yarnLock []byte) {
	var pl, yl strings.Builder
	pl.WriteString(`{"lockfileVersion":3,"packages":{"":{"name":"app"}`)
	yl.WriteString("# yarn lockfile v1\n\n")
	for i := range n {
		fmt.Fprintf(&pl, `,"node_modules/pkg-%d":{"version":"1.%d.0","resolved":"https://registry.npmjs.org/pkg-%d/-/pkg-%d-1.%d.0.tgz","integrity":"sha512-AAAA","license":"MIT"}`, i, i, i, i, i)
		fmt.Fprintf(&yl, "pkg-%d@^1.0.0:\n  version \"1.%d.0\"\n  resolved \"https://registry.yarnpkg.com/pkg-%d/-/pkg-%d-1.%d.0.tgz\"\n  integrity sha512-AAAA\n  dependencies:\n    dep \"^1.0.0\"\n\n", i, i, i, i, i)
	}
	pl.WriteString("}}")
	return []byte(pl.String()), []byte(yl.String())
}

func BenchmarkPackageLock(b *testing.B) {
	content, _ := syntheticLock(20_000)
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if pkgs, err := parsePackageLock("package-lock.json", content); err != nil || len(pkgs) != 20_000 {
			b.Fatal(len(pkgs), err)
		}
	}
}

func BenchmarkYarnLock(b *testing.B) {
	_, content := syntheticLock(20_000)
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if pkgs, err := parseYarnLock("yarn.lock", content); err != nil || len(pkgs) != 20_000 {
			b.Fatal(len(pkgs), err)
		}
	}
}
