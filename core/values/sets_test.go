package values

import (
	"errors"
	"testing"
)

// Helm 4's parser accepts some overrides that set nothing; cozyhr refuses
// them instead of dropping them without a word.
func TestOverridesThatSetNothingAreRefused(t *testing.T) {
	for _, c := range []struct {
		o    Overrides
		want error
	}{
		{Overrides{Values: []string{"a[=1"}}, ErrSetsNothing},
		{Overrides{StringValues: []string{"a[=1"}}, ErrSetsNothing},
		{Overrides{LiteralValues: []string{"=x"}}, ErrNoKey},
		{Overrides{Values: []string{"=x"}}, ErrNoKey},
	} {
		if _, err := Compose(nil, "", nil, nil, c.o); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.o, err, c.want)
		}
	}
	if _, err := Compose(nil, "", nil, nil, Overrides{Values: []string{"a[0]=1", "b="}, LiteralValues: []string{"c=x"}}); err != nil {
		t.Errorf("valid overrides refused: %v", err)
	}
}
