package golang

import (
	"bytes"
	"debug/buildinfo"
	"runtime/debug"
	"testing"
)

// FuzzBuildInfo feeds arbitrary bytes to the build-info reader and the
// package builder: neither may panic or hang.
func FuzzBuildInfo(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Add([]byte("MZ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		versionFromLdflags(&debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "-ldflags", Value: string(data)}}})
		info, err := buildinfo.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		Packages("bin/x", info)
	})
}
