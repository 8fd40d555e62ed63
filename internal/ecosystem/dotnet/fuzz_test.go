package dotnet

import "testing"

func FuzzDepsJSON(f *testing.F) {
	f.Add([]byte(`{"libraries":{"Newtonsoft.Json/13.0.1":{"type":"package"},"App/1.0.0":{"type":"project"}}}`))
	f.Add([]byte(`{"version":1,"dependencies":{"net8.0":{"log4net":{"type":"Direct","resolved":"2.0.5"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseDepsJSON("x.deps.json", data)
		ParsePackagesLock("packages.lock.json", data)
	})
}
