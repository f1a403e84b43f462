package admin

import (
	"io"
	"net/http"
	"strconv"

	"github.com/smartappmock/smartappmock/config"
	"github.com/smartappmock/smartappmock/mockserver"
	"github.com/smartappmock/smartappmock/store"
)

// faultList renders the plans in force with their counts.
func (a *API) faultList(r *http.Request, fs mockserver.Faults) (FaultList, error) {
	counts, err := a.store.FaultCounts(r.Context(), fs.Version)
	if err != nil {
		return FaultList{}, err
	}
	states := func(app, where string, plans []config.Fault) []FaultState {
		out := []FaultState{}
		for i, f := range plans {
			c := counts[store.PlanID{App: app, Index: i}]
			out = append(out, FaultState{Fault: f, Label: f.Label(where, i), Matched: c.Matched, Injected: c.Injected})
		}
		return out
	}
	out := FaultList{Faults: states("", "faults", fs.Global), Apps: map[string][]FaultState{}}
	for app, plans := range fs.Apps {
		out.Apps[app] = states(app, a.core.AppFaultsWhere(app), plans)
	}
	return out, nil
}

func (a *API) answerFaults(w http.ResponseWriter, r *http.Request, fs mockserver.Faults, err error) {
	if err == nil {
		var list FaultList
		if list, err = a.faultList(r, fs); err == nil {
			WriteJSON(w, http.StatusOK, list)
			return
		}
	}
	StoreFailed(w, err)
}

// getFaults lists the fault plans in force with their counts.
func (a *API) getFaults(w http.ResponseWriter, r *http.Request) {
	fs, err := a.core.Faults(r.Context())
	a.answerFaults(w, r, fs, err)
}

// putFaults replaces the top-level fault plans, {"faults":[...]}, checked by the config parser;
// counts and seeded draws start afresh. An app's plans stay as configured.
func (a *API) putFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, mockserver.MaxBodyBytes))
	if err != nil {
		WriteError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	faults, err := config.ParseFaults("request body", body)
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	fs, err := a.core.PutFaults(r.Context(), faults)
	a.answerFaults(w, r, fs, err)
}

// restartFaults restarts every plan's counts and seeded draws, so that a run replays the same
// faults; the plans themselves stay.
func (a *API) restartFaults(w http.ResponseWriter, r *http.Request) {
	fs, err := a.core.RestartFaults(r.Context())
	a.answerFaults(w, r, fs, err)
}

// ca answers the PEM certificate of the CA that signs the fake's HTTPS certificate, for clients
// and containers to trust (SSL_CERT_FILE, curl --cacert, PHP curl.cainfo, keytool).
func (a *API) ca(w http.ResponseWriter, r *http.Request) {
	if len(a.opts.CACert) == 0 {
		WriteError(w, http.StatusNotFound, "this fake has no CA: it was built without admin.Options.CACert (the smartappmock command and mockservertest always have one)")
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Length", strconv.Itoa(len(a.opts.CACert)))
	w.Header().Set("Content-Disposition", `attachment; filename="smartappmock-ca.pem"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.opts.CACert)
}
