package web

// registerScoringPages is replaced by the screens of this area.
func (s *Server) registerScoringPages() {}
