package server

// Seams for the external tests (package server_test).

// SetIntakeFault makes fn run in each webhook batch's transaction before
// it commits (nil removes it).
func SetIntakeFault(s *Server, fn func() error) { s.intake.fault = fn }

// IntakeQueued is the number of deliveries waiting for the batch writer.
func IntakeQueued(s *Server) int {
	s.intake.mu.Lock()
	defer s.intake.mu.Unlock()
	return len(s.intake.queue)
}
