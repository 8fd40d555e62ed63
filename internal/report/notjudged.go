package report

import (
	"strings"

	"github.com/vigil-scan/vigil/internal/result"
)

// What the scan could not judge (result.NotJudged) is shown by every
// format, where the format has a place for it: the table and markdown
// headers, SARIF run-level notifications, CycloneDX metadata properties,
// the SPDX document comment, GitLab scan messages and a skipped JUnit case.
// The JSON report carries the structured list itself.

// sarifInvocation reports NotJudged as tool execution notifications, where
// GitHub code scanning and other SARIF viewers show run-level problems.
type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	Properties                 map[string]any      `json:"properties,omitempty"`
}

type sarifNotification struct {
	Level      string            `json:"level"`
	Message    sarifText         `json:"message"`
	Descriptor *sarifDescriptor  `json:"descriptor,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

type sarifDescriptor struct {
	ID string `json:"id"`
}

func sarifInvocations(r *result.Report) []sarifInvocation {
	if len(r.NotJudged) == 0 {
		return nil
	}
	inv := sarifInvocation{ExecutionSuccessful: true, Properties: map[string]any{"notJudged": r.NotJudged}}
	for _, n := range r.NotJudged {
		props := map[string]string{"scope": n.Scope, "target": n.Target, "reason": n.Reason}
		if n.Ecosystem != "" {
			props["ecosystem"] = n.Ecosystem
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level:      "warning",
			Message:    sarifText{Text: n.String()},
			Descriptor: &sarifDescriptor{ID: "vigil/not-judged/" + n.Reason},
			Properties: props,
		})
	}
	return []sarifInvocation{inv}
}

// gitlabMessage is a security report scan message (schema 15.x).
type gitlabMessage struct {
	Level string `json:"level"`
	Value string `json:"value"`
}

func gitlabMessages(r *result.Report) []gitlabMessage {
	var out []gitlabMessage
	for _, n := range r.NotJudged {
		out = append(out, gitlabMessage{Level: "warn", Value: "not judged: " + n.String()})
	}
	return out
}

// notJudgedText is the entries as lines, for comments.
func notJudgedText(r *result.Report) string {
	s := ""
	for i, n := range r.NotJudged {
		if i > 0 {
			s += "\n"
		}
		s += "not judged: " + oneLine(n.String())
	}
	return s
}

// failsGate reports whether a gate reason starting with prefix failed it.
func failsGate(g *result.Gate, prefix string) bool {
	if g == nil || !g.Failed {
		return false
	}
	for _, r := range g.Reasons {
		if strings.HasPrefix(r, prefix) {
			return true
		}
	}
	return false
}
