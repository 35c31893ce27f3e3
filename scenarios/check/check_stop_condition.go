package check

// NameStopCondition is the canonical name of the stop-condition invariant:
// target mode's report of a breach of the deployment file's stop condition
// during a fault hook. It is decided during the run (package deploy), not
// from the history, so it has no Invariant of its own here.
const NameStopCondition = "stop-condition"

func init() {
	register(Spec{
		Name: NameStopCondition, Rank: 150, Deployment: FromSettings,
		Summary: "the error rate stays within the deployment's stop condition while a fault hook runs; a breach aborts and recovers the fault at once",
		Needs:   NeedsFault | NeedsRunProbe,
	})
}
