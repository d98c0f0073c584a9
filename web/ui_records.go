package web

// registerRecordPages is replaced by the screens of this area.
func (s *Server) registerRecordPages() {}
