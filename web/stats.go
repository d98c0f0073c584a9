package web

import (
	"net/http"

	"github.com/leadcycle/leadcycle"
)

// Lead statistics for dashboards. They count every lead, so only the roles
// that may read every lead (not telesales or sales, who see their own
// scope) may read them.

const leadStatsPath = "/api/v1/lead-stats"

func (s *Server) registerStats() {
	s.handle("GET", leadStatsPath, leadcycle.Perm("leads", "read_all"), s.leadStats)
}

func (s *Server) leadStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.store.LeadStats(r.Context(), s.clock.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
