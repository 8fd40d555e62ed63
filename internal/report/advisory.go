package report

// AdvisoryURL is the canonical web page of an advisory id, as the reports
// link it (the Harbor scanner API's links use it too).
func AdvisoryURL(id string) string { return advisoryURL(id) }
