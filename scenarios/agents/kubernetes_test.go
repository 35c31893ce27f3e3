package agents

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/regify-verify/regify-verify/history"
)

// TestKubernetesAgents: the engine applies the manifest's Service (with
// an EndpointSlice at the coordinator outside the cluster) and Indexed
// Job through the API; the pods, played here by a fake kubelet that runs
// each pod's agent with its completion index, connect back and their
// merged load is judged as remote agents' is; Close deletes every object.
// No cluster is reachable here: the API is client-go's fake clientset.
func TestKubernetesAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a lab; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lab, cfg := labLoad(ctx, t, 6, 8, 30, 5)
	cs := newFakeKube()
	remote, err := NewRemote("127.0.0.1:0", 20*time.Second)
	require.NoError(t, err)
	o := KubernetesOptions{ManifestOptions: ManifestOptions{Agents: 3, Image: "regify-verify:test", RunID: "rv1", Namespace: "load", Port: remote.Port()},
		Advertise: "192.0.2.10", Client: cs}
	k, err := StartKubernetes(ctx, remote, o)
	require.NoError(t, err)

	var svc corev1.Service
	getKube(ctx, t, cs, gvrServices, "load", "regify-verify-coordinator-rv1", &svc)
	assert.Empty(t, svc.Spec.Selector, "the coordinator is outside the cluster: its endpoints are given")
	var slice discoveryv1.EndpointSlice
	getKube(ctx, t, cs, gvrEndpointSlices, "load", "regify-verify-coordinator-rv1", &slice)
	assert.Equal(t, svc.Name, slice.Labels["kubernetes.io/service-name"])
	require.Len(t, slice.Endpoints, 1)
	assert.Equal(t, []string{"192.0.2.10"}, slice.Endpoints[0].Addresses)
	require.Len(t, slice.Ports, 1)
	assert.Equal(t, "agents", *slice.Ports[0].Name, "named as the Service's port")
	assert.Equal(t, int32(remote.Port()), *slice.Ports[0].Port)
	var job batchv1.Job
	getKube(ctx, t, cs, gvrJobs, "load", "regify-verify-agents-rv1", &job)
	assert.Equal(t, int32(3), *job.Spec.Completions)
	assert.Equal(t, batchv1.IndexedCompletion, *job.Spec.CompletionMode)
	assert.NotNil(t, job.Spec.TTLSecondsAfterFinished, "the cluster removes a finished Job")
	assert.NotNil(t, job.Spec.ActiveDeadlineSeconds, "a Job whose coordinator never came ends")

	// The fake kubelet: pod i runs the Job's container with
	// JOB_COMPLETION_INDEX=i, which makes it agent i+1, and reaches the
	// coordinator (the Service's name resolves only in a cluster; here
	// its endpoint is this test's listener).
	args := job.Spec.Template.Spec.Containers[0].Args
	require.Equal(t, []string{"agent", "--coordinator", CoordinatorURL(o.ManifestOptions)}, args)
	served := make(chan error, 3)
	for i := range 3 {
		go func() { served <- connectAgent(ctx, remote.URL(), i+1) }()
	}
	rec := history.NewRecorder(history.Meta{RunID: "t"})
	reps, err := Driver{Agents: 3, Engine: k}.Drive(ctx, cfg, lab.CAPEM(), rec)
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, <-served)
	}
	require.Len(t, reps, 3)
	for _, r := range reps {
		assert.Equal(t, "kubernetes", r.Engine)
		assert.Empty(t, r.Died)
		assert.Positive(t, r.Requests)
	}

	require.NoError(t, k.Close(ctx))
	for _, gvr := range []schema.GroupVersionResource{gvrServices, gvrEndpointSlices, gvrJobs} {
		l, err := cs.Resource(gvr).Namespace("load").List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		assert.Empty(t, l.Items, "%s left", gvr.Resource)
	}
}

// newFakeKube is client-go's fake dynamic client, knowing the engine's
// kinds of object.
func newFakeKube() *dynamicfake.FakeDynamicClient {
	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme)
	_ = batchv1.AddToScheme(scheme)
	_ = discoveryv1.AddToScheme(scheme)
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{
		gvrServices: "ServiceList", gvrEndpointSlices: "EndpointSliceList", gvrJobs: "JobList",
	})
}

// getKube reads an object from the fake cluster into out (a typed one).
func getKube(ctx context.Context, t *testing.T, cs *dynamicfake.FakeDynamicClient, gvr schema.GroupVersionResource, ns, name string, out any) {
	t.Helper()
	u, err := cs.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out))
}

// TestKubernetesRefusesAndRollsBack: bad input is refused before anything
// is created; a Job the cluster refuses leaves no Service behind; a
// coordinator in the cluster gets a Service that selects its pod.
func TestKubernetesRefusesAndRollsBack(t *testing.T) {
	ctx := context.Background()
	base := ManifestOptions{Agents: 2, Image: "img", RunID: "rv2", Port: 7000}
	remote, err := NewRemote("127.0.0.1:0", time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = remote.Close() })

	cases := []struct {
		name string
		o    KubernetesOptions
		want string
	}{
		{"no image", KubernetesOptions{ManifestOptions: ManifestOptions{Agents: 2, RunID: "rv2", Port: 7000}}, "--image is missing"},
		{"bad run id", KubernetesOptions{ManifestOptions: ManifestOptions{Agents: 2, Image: "img", RunID: "RV_2", Port: 7000}}, `run id "RV_2"`},
		{"bad advertise", KubernetesOptions{ManifestOptions: base, Advertise: "pods.example"}, `--agents-advertise "pods.example": want the IP`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs := newFakeKube()
			tc.o.Client = cs
			_, err := StartKubernetes(ctx, remote, tc.o)
			assert.ErrorContains(t, err, tc.want)
			assert.Empty(t, cs.Actions(), "nothing sent to the cluster")
		})
	}

	cs := newFakeKube()
	cs.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("jobs.batch is forbidden")
	})
	_, err = StartKubernetes(ctx, remote, KubernetesOptions{ManifestOptions: base, Advertise: "192.0.2.10", Client: cs})
	require.ErrorContains(t, err, "create jobs default/regify-verify-agents-rv2: jobs.batch is forbidden")
	var verbs []string
	for _, a := range cs.Actions() {
		verbs = append(verbs, a.GetVerb()+" "+a.GetResource().Resource)
	}
	assert.Equal(t, []string{"create services", "create endpointslices", "create jobs", "delete endpointslices", "delete services"}, verbs,
		"what was created before the refusal is deleted, newest first")

	cs = newFakeKube()
	k, err := StartKubernetes(ctx, remote, KubernetesOptions{ManifestOptions: base, Client: cs})
	require.NoError(t, err)
	var svc corev1.Service
	getKube(ctx, t, cs, gvrServices, "default", "regify-verify-coordinator-rv2", &svc)
	assert.Equal(t, map[string]string{LabelApp: "regify-verify", LabelPart: "coordinator", LabelRun: "rv2"}, svc.Spec.Selector)
	sl, err := cs.Resource(gvrEndpointSlices).Namespace("default").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, sl.Items, "the cluster finds the coordinator's pod itself")
	require.NoError(t, k.deleteCreated(ctx))
	assert.True(t, slices.ContainsFunc(cs.Actions(), func(a k8stesting.Action) bool {
		d, ok := a.(k8stesting.DeleteAction)
		return ok && d.GetResource().Resource == "jobs" && strings.HasPrefix(d.GetName(), "regify-verify-agents-")
	}), "the Job is deleted")
}
