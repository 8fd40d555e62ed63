package ecosystem

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ScanLines calls fn for each line of r, numbered from 1 and without its
// "\n" or "\r\n", stopping at fn's first error. It is the loop of the
// package-database parsers that stream their file: a line longer than
// maxLine bytes is an error naming the line, and ctx is checked every few
// thousand lines so a huge file does not outlive a cancelled scan.
func ScanLines(ctx context.Context, r io.Reader, maxLine int, fn func(lineNo int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine)), maxLine)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if lineNo%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(lineNo, strings.TrimRight(sc.Text(), "\r")); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d: longer than %d bytes", lineNo+1, maxLine)
		}
		return err
	}
	return nil
}
