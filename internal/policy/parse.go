package policy

import "fmt"

// Parse reads a policy document held in memory, with the rules and errors
// of LoadFile; name stands for the file in errors and suppression rules.
// The service keeps each tenant's exceptions this way. A `vex:` list is
// refused: there is no directory to resolve its paths against.
func Parse(name string, data []byte) (*Policy, error) {
	if len(data) > maxPolicySize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxPolicySize)
	}
	p, vexFiles, err := parseFile(name, data)
	if err != nil {
		return nil, err
	}
	if len(vexFiles) > 0 {
		return nil, fmt.Errorf("%s:%d: vex documents are not supported here", name, vexFiles[0].line)
	}
	return p, nil
}
