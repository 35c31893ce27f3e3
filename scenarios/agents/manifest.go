package agents

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// ManifestOptions say what agents a Kubernetes manifest runs.
type ManifestOptions struct {
	Agents int
	// Image is the regify-verify image (`images build` makes one FROM
	// scratch; push it where the cluster pulls from).
	Image string
	// RunID names and labels everything, so one run's objects are found
	// and removed together.
	RunID     string
	Namespace string
	// Port is the coordinator's agent port; the Service forwards it.
	Port int
}

// Labels of every object a manifest makes.
const (
	LabelApp  = "app.kubernetes.io/name"
	LabelPart = "app.kubernetes.io/component"
	LabelRun  = "regify-verify/run"
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$`)

// Manifest is an Indexed Job of Agents pods (pod i is agent i+1, spread
// over the nodes) and the Service in front of the coordinator they
// report to, built from the Kubernetes API types and written as YAML.
func Manifest(o ManifestOptions) ([]byte, error) {
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	svc, job := coordinatorService(o), agentJob(o)
	var out bytes.Buffer
	for i, obj := range []any{svc, job} {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(b)
	}
	return out.Bytes(), nil
}

func (o ManifestOptions) validate() error {
	switch {
	case o.Agents < 1:
		return fmt.Errorf("--agents %d: want at least 1", o.Agents)
	case o.Image == "":
		return errors.New("--image is missing: the regify-verify image the cluster can pull")
	case !dnsLabel.MatchString(o.RunID):
		return fmt.Errorf("run id %q: want lower-case letters, digits and '-', at most 40", o.RunID)
	case o.Port < 1 || o.Port > 65535:
		return fmt.Errorf("port %d: want 1-65535", o.Port)
	}
	return nil
}

// jobTTL is how long a finished agents' Job stays for inspection before
// the cluster removes it; jobDeadline bounds a Job whose coordinator
// never came (or was killed): its pods are ended.
const (
	jobTTL      = 10 * 60
	jobDeadline = 60 * 60
)

func names(o ManifestOptions) (svc, job string) {
	return "regify-verify-coordinator-" + o.RunID, "regify-verify-agents-" + o.RunID
}

// CoordinatorURL is where the manifest's agents find the coordinator.
func CoordinatorURL(o ManifestOptions) string {
	svc, _ := names(o)
	u := url.URL{Scheme: "http", Host: fmt.Sprintf("%s:%d", svc, o.Port)}
	return u.String()
}

func labels(o ManifestOptions, part string) map[string]string {
	return map[string]string{LabelApp: "regify-verify", LabelPart: part, LabelRun: o.RunID}
}

func coordinatorService(o ManifestOptions) *corev1.Service {
	name, _ := names(o)
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: labels(o, "coordinator")},
		Spec: corev1.ServiceSpec{
			Selector: labels(o, "coordinator"),
			Ports: []corev1.ServicePort{{Name: "agents", Protocol: corev1.ProtocolTCP, Port: int32(o.Port),
				TargetPort: intstr.FromInt32(int32(o.Port))}},
		},
	}
}

func agentJob(o ManifestOptions) *batchv1.Job {
	_, name := names(o)
	n := int32(o.Agents)
	indexed := batchv1.IndexedCompletion
	noRetry := int32(0)
	ttl, deadline := int32(jobTTL), int64(jobDeadline)
	podLabels := labels(o, "agent")
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: podLabels},
		Spec: batchv1.JobSpec{
			CompletionMode: &indexed,
			Completions:    &n,
			Parallelism:    &n,
			// An agent that dies is reported by the coordinator; a retry
			// would be a second agent with the same users.
			BackoffLimit: &noRetry,
			// Bounded and cleaned up by the cluster itself, also when the
			// coordinator was killed and deletes nothing.
			TTLSecondsAfterFinished: &ttl,
			ActiveDeadlineSeconds:   &deadline,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					// One agent a node where the cluster has nodes enough:
					// each agent then has a source address of its own.
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
						MaxSkew: 1, TopologyKey: "kubernetes.io/hostname",
						WhenUnsatisfiable: corev1.ScheduleAnyway,
						LabelSelector:     &metav1.LabelSelector{MatchLabels: podLabels},
					}},
					Containers: []corev1.Container{{
						Name:  "agent",
						Image: o.Image,
						// The share comes from JOB_COMPLETION_INDEX, which
						// an Indexed Job sets in every pod.
						Args: []string{"agent", "--coordinator", CoordinatorURL(o)},
					}},
				},
			},
		},
	}
}
