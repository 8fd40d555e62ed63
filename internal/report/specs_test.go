package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigil-scan/vigil/internal/report/reporttest"
)

func TestParseFormatSpecs(t *testing.T) {
	got, err := ParseFormatSpecs([]string{" Table ", "sarif=out.sarif", "json = dir/r.json"})
	if err != nil {
		t.Fatal(err)
	}
	want := []FormatSpec{{"table", ""}, {"sarif", "out.sarif"}, {"json", "dir/r.json"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("spec %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseFormatSpecsRejects(t *testing.T) {
	for _, tc := range []struct {
		specs []string
		want  string
	}{
		{[]string{""}, "missing format name"},
		{[]string{"=out.json"}, "missing format name"},
		{[]string{"yaml"}, `unknown format "yaml"`},
		{[]string{"json="}, "empty file name"},
		{[]string{"json=  "}, "empty file name"},
		{[]string{"table", "json"}, "both write to standard output"},
		{[]string{"json=a/r.json", "sarif=a/./r.json"}, "both write to a/./r.json"},
	} {
		_, err := ParseFormatSpecs(tc.specs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFormatSpecs(%q) = %v, want error containing %q", tc.specs, err, tc.want)
		}
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	ok := []FormatSpec{{Format: "table"}, {Format: "json", Path: filepath.Join(dir, "r.json")}}
	if err := CheckWritable(ok); err != nil {
		t.Fatalf("writable spec rejected: %v", err)
	}
	bad := []FormatSpec{
		{Format: "json", Path: dir},
		{Format: "sarif", Path: filepath.Join(dir, "missing", "r.sarif")},
	}
	err := CheckWritable(bad)
	if err == nil || !strings.Contains(err.Error(), "is a directory") || !strings.Contains(err.Error(), "cannot create files") {
		t.Fatalf("CheckWritable = %v, want both failures", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("CheckWritable left files behind: %v", left)
	}
}

// A file output never gets the ANSI colours meant for a terminal.
func TestWriteAllColoursStandardOutputOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "table.txt")
	specs := []FormatSpec{{Format: "table"}, {Format: "table", Path: path}}
	var stdout bytes.Buffer
	if err := WriteAll(specs, &stdout, reporttest.Report(), Options{Color: true}); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(stdout.Bytes(), []byte("\x1b[")) {
		t.Error("standard output has no colour")
	}
	if bytes.Contains(file, []byte("\x1b[")) {
		t.Error("file output has ANSI escapes")
	}
}

// An output that is not a regular file (a FIFO here, /dev/null in the
// bench) is written in place, not replaced by a renamed temporary file.
func TestWriteAllIntoFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	read := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		read <- b
	}()
	if err := WriteAll([]FormatSpec{{"json", fifo}}, &bytes.Buffer{}, reporttest.Report(), Options{}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v", err)
	}
	if b := <-read; !bytes.Contains(b, []byte(`"vulnerabilities"`)) {
		t.Errorf("read %d bytes through the FIFO, no report", len(b))
	}
}
