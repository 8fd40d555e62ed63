package checks

import (
	"fmt"
	"strings"
)

func checkSetuid(in *input) outcome {
	paths, facts := in.factsByPath(FactSetuid, FactSetgid)
	var o outcome
	for _, p := range paths {
		var kinds []string
		mode := ""
		for _, f := range facts[p] {
			kinds = append(kinds, f.Kind)
			mode = f.Mode
		}
		o.alerts = append(o.alerts, fmt.Sprintf("%s file: %s (mode %s)", strings.Join(kinds, " and "), p, mode))
	}
	return o
}

func checkUnneeded(in *input) outcome {
	paths, facts := in.factsByPath(FactUnneeded)
	var o outcome
	for _, p := range paths {
		for _, f := range facts[p] {
			o.alerts = append(o.alerts, p+": "+f.Detail)
		}
	}
	return o
}

// accountsOf parses an account file of the merged image.
func (in *input) accountsOf(p string) ([]account, bool) {
	b, ok := in.content(p)
	if !ok {
		return nil, false
	}
	a, _ := parseAccounts(p, b)
	return a, true
}

func checkEmptyPassword(in *input) outcome {
	shadow, hasShadow := in.accountsOf(shadowPath)
	passwd, hasPasswd := in.accountsOf(passwdPath)
	if !hasShadow && !hasPasswd {
		return skipped("no etc/shadow or etc/passwd in the image")
	}
	var o outcome
	for _, a := range shadow {
		if a.Password == "" {
			o.alerts = append(o.alerts, "user "+a.Name+" has an empty password (etc/shadow line "+fmt.Sprint(a.Line)+")")
		}
	}
	for _, a := range passwd {
		if a.Password == "" {
			o.alerts = append(o.alerts, "user "+a.Name+" has an empty password (etc/passwd line "+fmt.Sprint(a.Line)+")")
		}
	}
	return o
}

func checkDuplicates(in *input) outcome {
	passwd, hasPasswd := in.accountsOf(passwdPath)
	group, hasGroup := in.accountsOf(groupPath)
	if !hasPasswd && !hasGroup {
		return skipped("no etc/passwd or etc/group in the image")
	}
	var o outcome
	byID := func(a account) string { return strings.TrimLeft(a.ID, "0") }
	byName := func(a account) string { return a.Name }
	for _, d := range duplicates(passwd, byID) {
		o.alerts = append(o.alerts, fmt.Sprintf("duplicate UID %s: users %s (etc/passwd)", orZero(d[0]), d[1]))
	}
	for _, d := range duplicates(passwd, byName) {
		o.alerts = append(o.alerts, fmt.Sprintf("duplicate user name %s (etc/passwd)", d[0]))
	}
	for _, d := range duplicates(group, byID) {
		o.alerts = append(o.alerts, fmt.Sprintf("duplicate GID %s: groups %s (etc/group)", orZero(d[0]), d[1]))
	}
	for _, d := range duplicates(group, byName) {
		o.alerts = append(o.alerts, fmt.Sprintf("duplicate group name %s (etc/group)", d[0]))
	}
	return o
}

// orZero turns the id "" (all zeros trimmed) back into "0".
func orZero(id string) string {
	if id == "" {
		return "0"
	}
	return id
}
