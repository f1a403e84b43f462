package mockserver

import (
	"io"
	"net/http"
	"strconv"

	"github.com/smartappmock/smartappmock/config"
)

// faultState is how a fault stands, for the admin API.
type faultState struct {
	config.Fault
	Label    string `json:"label"`
	Matched  int    `json:"matched"`
	Injected int    `json:"injected"`
}

func (fs *faultSet) states() []faultState {
	out := []faultState{}
	if fs == nil {
		return out
	}
	for _, f := range fs.faults {
		f.mu.Lock()
		out = append(out, faultState{Fault: f.Fault, Label: f.label, Matched: f.matched, Injected: f.injected})
		f.mu.Unlock()
	}
	return out
}

// adminFaultRoutes registers the fault and CA endpoints of the admin API.
func (s *Server) adminFaultRoutes(a prefixed) {
	a.HandleFunc("/faults", s.adminGetFaults).Methods(http.MethodGet)
	a.HandleFunc("/faults", s.adminPutFaults).Methods(http.MethodPut)
	a.HandleFunc("/faults/reset", s.adminResetFaults).Methods(http.MethodPost)
	a.HandleFunc("/ca", s.adminCA).Methods(http.MethodGet)
}

func (s *Server) faultView() map[string]any {
	s.faults.init(s.cfg.Load())
	apps := map[string][]faultState{}
	for id, fs := range *s.faults.apps.Load() {
		apps[id] = fs.states()
	}
	return map[string]any{"faults": s.faults.global.Load().states(), "apps": apps}
}

// adminGetFaults lists the faults in force with their counters: {"faults":[...],"apps":{id:[...]}}.
func (s *Server) adminGetFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.faultView())
}

// adminPutFaults replaces the top-level faults, {"faults":[...]}, checked by the config parser;
// counters and seeded sources start afresh. An app's faults stay as configured.
func (s *Server) adminPutFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	faults, err := config.ParseFaults("request body", body)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.faults.init(s.cfg.Load())
	s.faults.setGlobal(faults)
	writeJSON(w, http.StatusOK, s.faultView())
}

// adminResetFaults restarts every fault's counters and seeded source, so that a run replays the
// same faults; the faults themselves stay.
func (s *Server) adminResetFaults(w http.ResponseWriter, r *http.Request) {
	s.resetFaults()
	writeJSON(w, http.StatusOK, s.faultView())
}

// resetFaults rebuilds every fault set from its definitions: counters at zero, sources reseeded.
func (s *Server) resetFaults() {
	cfg := s.cfg.Load()
	s.faults.init(cfg)
	s.faults.load(cfg, s.faults.global.Load().definitions())
}

func (fs *faultSet) definitions() []config.Fault {
	out := []config.Fault{}
	if fs == nil {
		return out
	}
	for _, f := range fs.faults {
		out = append(out, f.Fault)
	}
	return out
}

// adminCA answers the PEM certificate of the CA that signs the fake's HTTPS certificate, for
// clients and containers to trust (SSL_CERT_FILE, curl --cacert, PHP curl.cainfo, keytool).
func (s *Server) adminCA(w http.ResponseWriter, r *http.Request) {
	if len(s.caPEM) == 0 {
		writeAdminError(w, http.StatusNotFound, "this fake has no CA: it was built without Options.CACert (the smartappmock command and mockservertest always have one)")
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Length", strconv.Itoa(len(s.caPEM)))
	w.Header().Set("Content-Disposition", `attachment; filename="smartappmock-ca.pem"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(s.caPEM)
}
