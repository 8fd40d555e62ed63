package checks

import (
	"fmt"
	"strings"
)

// Account files as they appear in the merged image filesystem.
const (
	passwdPath = "etc/passwd"
	shadowPath = "etc/shadow"
	groupPath  = "etc/group"
)

// maxAccountFileBytes bounds an account file kept for the checks.
const maxAccountFileBytes = 4 << 20

// account is one line of etc/passwd, etc/shadow or etc/group: the name, the
// password field and, except in shadow, the numeric id as text.
type account struct {
	Name     string
	Password string
	ID       string
	Line     int
}

// accountFields is how many colon-separated fields each file has at least.
var accountFields = map[string]int{passwdPath: 7, shadowPath: 2, groupPath: 4}

// parseAccounts reads an account file. Blank lines, comments and NIS
// compat entries (+name, -name, +) are skipped; malformed lines are
// reported as errors "file:line: ..." and skipped.
func parseAccounts(file string, content []byte) ([]account, []error) {
	want := accountFields[file]
	if want == 0 {
		want = 2
	}
	var out []account
	var errs []error
	for n, line := range strings.Split(string(content), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) < want {
			errs = append(errs, fmt.Errorf("%s:%d: %d colon-separated fields, want %d", file, n+1, len(fields), want))
			continue
		}
		a := account{Name: fields[0], Password: fields[1], Line: n + 1}
		if file != shadowPath {
			a.ID = fields[2]
			if !isDigits(a.ID) {
				errs = append(errs, fmt.Errorf("%s:%d: id %q is not a number", file, n+1, truncate(a.ID, 20)))
				continue
			}
		}
		if a.Name == "" {
			errs = append(errs, fmt.Errorf("%s:%d: empty name", file, n+1))
			continue
		}
		out = append(out, a)
	}
	return out, errs
}

// duplicates returns, in order of first appearance, each value of key that
// more than one account has, with those accounts' names.
func duplicates(accounts []account, key func(account) string) [][2]string {
	byKey := map[string][]string{}
	var order []string
	for _, a := range accounts {
		k := key(a)
		if _, seen := byKey[k]; !seen {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], a.Name)
	}
	var out [][2]string
	for _, k := range order {
		if names := byKey[k]; len(names) > 1 {
			out = append(out, [2]string{k, strings.Join(names, ", ")})
		}
	}
	return out
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
