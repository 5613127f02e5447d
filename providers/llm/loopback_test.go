package llm_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/llm"
)

// fixtureServer answers chat completions under /llm as the sandbox lays
// them out: the recorded completion for a valid key, the 401 body
// otherwise, and the context-length error for a model named "tiny".
func fixtureServer(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/llm/v1/chat/completions":
			w.WriteHeader(http.StatusNotFound)
			w.Write(testdata(t, "error_404_model_not_found.json"))
		case r.Header.Get("Authorization") != "Bearer "+apiKey:
			w.WriteHeader(http.StatusUnauthorized)
			w.Write(testdata(t, "error_401_invalid_api_key.json"))
		case strings.Contains(string(body), `"model":"tiny"`):
			w.WriteHeader(http.StatusBadRequest)
			w.Write(testdata(t, "error_400_context_length_exceeded.json"))
		default:
			w.Write(testdata(t, "chat_completion.json"))
		}
	})
}

func TestCloseReleasesEverything(t *testing.T) {
	providertest.CheckClose(t, fixtureServer(t), func(base string) (io.Closer, error) {
		return llm.New(llm.Config{BaseURL: base + "/llm", APIKey: apiKey}, providertest.Options()...)
	}, func(cl io.Closer) {
		c := cl.(*llm.Client)
		for range 3 {
			got, err := c.Complete(context.Background(), chat)
			require.NoError(t, err)
			require.Equal(t, "stop", got.FinishReason)
		}
	})
	providertest.CheckClose(t, fixtureServer(t), func(base string) (io.Closer, error) {
		return llm.New(llm.Config{BaseURL: base + "/llm", APIKey: apiKey, Model: "tiny"}, providertest.Options()...)
	}, func(cl io.Closer) {
		_, err := cl.(*llm.Client).Complete(context.Background(), chat)
		require.ErrorIs(t, err, llm.ErrContextLength)
	})
}

func TestUnclosedClientIsReported(t *testing.T) {
	srv := providertest.NewServer(t, fixtureServer(t))
	providertest.CheckUnclosedTracker(t, "llm", func(l *slog.Logger) (io.Closer, error) {
		c, err := llm.New(llm.Config{BaseURL: srv.URL + "/llm", APIKey: apiKey}, append(providertest.Options(), providers.WithLogger(l))...)
		if err != nil {
			return nil, err
		}
		_, err = c.Complete(context.Background(), chat)
		return c, err
	})
	srv.RequireNoOpenConns(t) // the tracker closed the dropped client's idle connection
}
