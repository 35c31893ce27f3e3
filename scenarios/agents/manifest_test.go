package agents

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TestManifestDecodesBack: the manifest is a Service and an Indexed Job
// that decode back into the API types with what they must say: N pods,
// indexed, no retries, spread over nodes, each running the agent against
// the Service, all labelled with the run.
func TestManifestDecodesBack(t *testing.T) {
	o := ManifestOptions{Agents: 4, Image: "regify-verify:dev", RunID: "rv-1a2b", Namespace: "load", Port: 7000}
	b, err := Manifest(o)
	require.NoError(t, err)
	docs := bytes.Split(b, []byte("---\n"))
	require.Len(t, docs, 2)

	var svc corev1.Service
	require.NoError(t, yaml.UnmarshalStrict(docs[0], &svc))
	assert.Equal(t, "Service", svc.Kind)
	assert.Equal(t, "regify-verify-coordinator-rv-1a2b", svc.Name)
	assert.Equal(t, "load", svc.Namespace)
	assert.Equal(t, "coordinator", svc.Spec.Selector[LabelPart])
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, int32(7000), svc.Spec.Ports[0].Port)

	var job batchv1.Job
	require.NoError(t, yaml.UnmarshalStrict(docs[1], &job))
	assert.Equal(t, "batch/v1", job.APIVersion)
	assert.Equal(t, "Job", job.Kind)
	require.NotNil(t, job.Spec.CompletionMode)
	assert.Equal(t, batchv1.IndexedCompletion, *job.Spec.CompletionMode)
	assert.Equal(t, int32(4), *job.Spec.Completions)
	assert.Equal(t, int32(4), *job.Spec.Parallelism)
	assert.Equal(t, int32(0), *job.Spec.BackoffLimit)
	pod := job.Spec.Template.Spec
	assert.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
	require.Len(t, pod.TopologySpreadConstraints, 1)
	assert.Equal(t, "kubernetes.io/hostname", pod.TopologySpreadConstraints[0].TopologyKey)
	assert.Equal(t, job.Spec.Template.Labels, pod.TopologySpreadConstraints[0].LabelSelector.MatchLabels)
	require.Len(t, pod.Containers, 1)
	assert.Equal(t, "regify-verify:dev", pod.Containers[0].Image)
	assert.Equal(t, []string{"agent", "--coordinator", "http://regify-verify-coordinator-rv-1a2b:7000"}, pod.Containers[0].Args)
	assert.Equal(t, "rv-1a2b", job.Labels[LabelRun])
}

func TestManifestRefusesBadInput(t *testing.T) {
	good := ManifestOptions{Agents: 2, Image: "img", RunID: "r1", Port: 7000}
	for _, tc := range []struct {
		mod  func(*ManifestOptions)
		want string
	}{
		{func(o *ManifestOptions) { o.Agents = 0 }, "--agents 0: want at least 1"},
		{func(o *ManifestOptions) { o.Image = "" }, "--image is missing"},
		{func(o *ManifestOptions) { o.RunID = "Run_1" }, `run id "Run_1"`},
		{func(o *ManifestOptions) { o.Port = 0 }, "port 0"},
	} {
		o := good
		tc.mod(&o)
		_, err := Manifest(o)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}
