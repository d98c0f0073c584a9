package web

// registerAdminPages is replaced by the screens of this area.
func (s *Server) registerAdminPages() {}
