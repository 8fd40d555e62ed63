package java

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// archive/zip allocates a File for every central-directory record before
// returning, so the entry count is read from the end-of-central-directory
// record first and absurd counts are refused without that allocation.

const (
	eocdLen       = 22
	eocdMaxSearch = eocdLen + 0xffff // the record plus the longest comment
	zip64LocLen   = 20
	zip64EOCDLen  = 56
)

// entryCount returns the number of entries a zip's central directory
// declares, or 0 when the end record cannot be found (zip.NewReader then
// reports the archive as invalid).
func entryCount(ra io.ReaderAt, size int64) (uint64, error) {
	n := min(size, eocdMaxSearch)
	if n < eocdLen {
		return 0, nil
	}
	tail := make([]byte, n)
	if _, err := ra.ReadAt(tail, size-n); err != nil && err != io.EOF {
		return 0, fmt.Errorf("reading zip end record: %w", err)
	}
	i := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if i < 0 || len(tail)-i < eocdLen {
		return 0, nil
	}
	count := uint64(binary.LittleEndian.Uint16(tail[i+10:]))
	if count != 0xffff {
		return count, nil
	}
	// Zip64: the locator just before the end record points at the zip64
	// end record, which holds the 64-bit count.
	loc := int64(i) + (size - n) - zip64LocLen
	if loc < 0 {
		return count, nil
	}
	buf := make([]byte, zip64LocLen)
	if _, err := ra.ReadAt(buf, loc); err != nil || !bytes.Equal(buf[:4], []byte("PK\x06\x07")) {
		return count, nil
	}
	off := binary.LittleEndian.Uint64(buf[8:])
	if off > uint64(size)-zip64EOCDLen || size < zip64EOCDLen {
		return count, nil
	}
	rec := make([]byte, zip64EOCDLen)
	if _, err := ra.ReadAt(rec, int64(off)); err != nil || !bytes.Equal(rec[:4], []byte("PK\x06\x06")) {
		return count, nil
	}
	return binary.LittleEndian.Uint64(rec[32:]), nil
}
