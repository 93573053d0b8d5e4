package cmd

import (
	"errors"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/core/kube"
)

// userMessage is an error as the command line says it (output.UserMessage).
func userMessage(err error) string { return output.UserMessage(err) }

// isChanges reports an error that only says diff found changes.
func isChanges(err error) bool { return err != nil && ExitCode(err) == ExitChanges }

// explainTimeout replaces an error caused by a server that did not answer
// with the timeout itself, whatever the library in between made of it.
func explainTimeout(t *kube.RequestTimeouts, err error) error {
	if err == nil {
		return nil
	}
	if te := t.TimedOut(); te != nil {
		var ee *ExitError
		if errors.As(err, &ee) && ee.Silent {
			return err
		}
		return te
	}
	return err
}
