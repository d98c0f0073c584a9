package web

// registerImportPages is replaced by the screens of this area.
func (s *Server) registerImportPages() {}
