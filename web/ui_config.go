package web

// registerConfigPages is replaced by the screens of this area.
func (s *Server) registerConfigPages() {}
