// Package publish sends scan results to the central Vigil service with the
// CI/CD context they were produced in (workflow, run URL, repository,
// commit), so the service can trace every image back to the build that made
// it. The wire format is documented in docs/publish.md.
package publish

import (
	"net/url"
	"strings"
)

// Trace is the CI/CD context of a scan.
type Trace struct {
	// Provider is "github-actions", "azure-pipelines", "gitlab-ci" or "" when
	// no CI system was detected.
	Provider      string `json:"provider,omitempty"`
	Workflow      string `json:"workflow,omitempty"`
	RunID         string `json:"run_id,omitempty"`
	RunAttempt    string `json:"run_attempt,omitempty"`
	RunURL        string `json:"run_url,omitempty"`
	Repository    string `json:"repository,omitempty"`
	RepositoryURL string `json:"repository_url,omitempty"`
	Commit        string `json:"commit,omitempty"`
	Ref           string `json:"ref,omitempty"`
}

// DetectTrace reads the CI context from the environment of GitHub Actions,
// Azure Pipelines or GitLab CI. getenv is injected for tests.
func DetectTrace(getenv func(string) string) Trace {
	switch {
	case getenv("GITHUB_ACTIONS") == "true" || getenv("GITHUB_RUN_ID") != "":
		return githubTrace(getenv)
	case getenv("TF_BUILD") != "" || getenv("BUILD_BUILDID") != "":
		return azureTrace(getenv)
	case getenv("GITLAB_CI") != "" || getenv("CI_PIPELINE_URL") != "":
		return gitlabTrace(getenv)
	}
	return Trace{}
}

func githubTrace(getenv func(string) string) Trace {
	server := strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/")
	if server == "" {
		server = "https://github.com"
	}
	repo := getenv("GITHUB_REPOSITORY")
	t := Trace{
		Provider:   "github-actions",
		Workflow:   getenv("GITHUB_WORKFLOW"),
		RunID:      getenv("GITHUB_RUN_ID"),
		RunAttempt: getenv("GITHUB_RUN_ATTEMPT"),
		Repository: repo,
		Commit:     getenv("GITHUB_SHA"),
		Ref:        getenv("GITHUB_REF"),
	}
	if repo != "" {
		t.RepositoryURL = server + "/" + repo
		if t.RunID != "" {
			t.RunURL = t.RepositoryURL + "/actions/runs/" + t.RunID
			if t.RunAttempt != "" {
				t.RunURL += "/attempts/" + t.RunAttempt
			}
		}
	}
	return t
}

func azureTrace(getenv func(string) string) Trace {
	collection := strings.TrimRight(getenv("SYSTEM_COLLECTIONURI"), "/")
	project := getenv("SYSTEM_TEAMPROJECT")
	buildID := getenv("BUILD_BUILDID")
	t := Trace{
		Provider:      "azure-pipelines",
		Workflow:      getenv("BUILD_DEFINITIONNAME"),
		RunID:         buildID,
		RunAttempt:    getenv("SYSTEM_JOBATTEMPT"),
		Repository:    getenv("BUILD_REPOSITORY_NAME"),
		RepositoryURL: getenv("BUILD_REPOSITORY_URI"),
		Commit:        getenv("BUILD_SOURCEVERSION"),
		Ref:           getenv("BUILD_SOURCEBRANCH"),
	}
	if collection != "" && project != "" && buildID != "" {
		t.RunURL = collection + "/" + url.PathEscape(project) + "/_build/results?buildId=" + buildID
	}
	return t
}

func gitlabTrace(getenv func(string) string) Trace {
	return Trace{
		Provider:      "gitlab-ci",
		Workflow:      getenv("CI_PIPELINE_NAME"),
		RunID:         getenv("CI_PIPELINE_ID"),
		RunURL:        getenv("CI_PIPELINE_URL"),
		Repository:    getenv("CI_PROJECT_PATH"),
		RepositoryURL: getenv("CI_PROJECT_URL"),
		Commit:        getenv("CI_COMMIT_SHA"),
		Ref:           getenv("CI_COMMIT_REF_NAME"),
	}
}
