// Package templates holds the lab's pages as templ components. The
// generated *_templ.go files are committed; regenerate them with
//
//	go run github.com/a-h/templ/cmd/templ@v0.3.1100 generate ./templates
package templates

import "context"

// ExerciseItem is one row of the catalogue.
type ExerciseItem struct {
	Slug, Title, Topic, Difficulty string
	Backends                       []string
	Points                         int
	Best, BestRun                  string // this browser's best score ("7/10") and its run, or ""
}

// OpenAssignment is an assignment a student can still submit for, on
// their home page.
type OpenAssignment struct {
	ID, Title, Course, Due, State, Score string
}

// Home is what the catalogue adds for a signed-in person: their courses
// and the assignments open to them.
type Home struct {
	Courses     []CourseItem
	Assignments []OpenAssignment
}

// ScenarioItem is a scenario a run can be limited to.
type ScenarioItem struct{ Name, Title string }

// RunItem is one recorded run in a list.
type RunItem struct {
	ID, Exercise, Mode, Status, Verdict, Created, Backends string
	Score, Max                                             int
}

// RunPageView is a recorded run's page.
type RunPageView struct {
	RunItem
	Title     string
	Code      string // "" for reference runs, whose code is not shown
	Reference bool
	Others    []RunItem      // this browser's other runs of the exercise, to compare with
	ShowTo    []CourseChoice // the courses the viewer may show this run of theirs to
}

// CourseChoice is a course to pick.
type CourseChoice struct{ ID, Name string }

// WatchView is a course's "watch with me" page.
type WatchView struct {
	CourseID, CourseName string
	Staff                bool // the viewer is the course's staff
	Showing              bool // a run is being shown
	Presenter            bool // the viewer shows it
	By                   string
	Run                  RunPageView
	CSRF                 string
}

// ExerciseView is what the exercise page shows.
type ExerciseView struct {
	ExerciseItem
	InstructionsHTML string       // rendered from the exercise's Markdown, trusted
	Predict          *PredictView // nil: the exercise asks for no prediction
	Starter          string
	Signature        string
	Scenarios        []ScenarioItem
	Recent           []RunItem // this browser's latest runs of the exercise
	For              ForAssignment
	Imports          []string // the packages a handler may import besides the standard library's
	Std              []string // the part of the standard library it may import
}

// PredictView is an exercise's predict step: the question, the typed form
// the answer takes, and the student's standing prediction with the real
// answer of the latest run that carried it.
type PredictView struct {
	Question string
	Form     string   // "number", "choice" or "histogram"
	Unit     string   // number: what it counts
	Choices  []string // choice and histogram: the outcomes
	// Committed is the student's latest prediction as JSON ("" when none
	// is committed), CommittedText the same in words.
	Committed     string
	CommittedText string
	// ActualText is the real answer of the latest run that carried the
	// prediction, and Note where it comes from; "" until one did.
	ActualText string
	Note       string
}

// ForAssignment is the assignment an exercise page submits for.
type ForAssignment struct {
	ID, Title string
	State     string // "due 2027-03-01 23:59 CET, 2 of 3 submissions left"
}

// Status is the host's readiness, shown on every page when grading is off.
type Status struct {
	Ready  bool
	Reason string
}

// Viewer is the signed-in person a page is shown to; the zero Viewer is
// someone not signed in.
type Viewer struct {
	Name       string
	Instructor bool
	CSRF       string // for the sign-out form in the header
	// As is the name of the staff member viewing the lab as this
	// student, read-only; "" otherwise.
	As string
}

type viewerKey struct{}

// WithViewer returns ctx carrying v, for the header of every page rendered
// with it.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

func viewerOf(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}

// SignInView is the sign-in page.
type SignInView struct {
	Next, Email, Error, CSRF string
	Open                     bool // the lab is open to anyone without an account
}

// LinkView is the page a one-time link opens: the first instructor's
// account (Setup), or a person's new password.
type LinkView struct {
	Token       string
	Setup       bool
	Name, Email string // the person's, or what the setup form was sent with
	Error, CSRF string
}

// PersonItem is one row of the people page.
type PersonItem struct {
	ID, Name, Email, Role, Created string
	HasPassword                    bool
}

// IssuedLink is a one-time link just made, shown once.
type IssuedLink struct{ Name, URL, Expires string }

// PeopleView is the instructors' people page.
type PeopleView struct {
	People []PersonItem
	Issued *IssuedLink
	Error  string
	CSRF   string
}

// SettingsView is the instance's settings page.
type SettingsView struct {
	Open  bool
	Saved bool
	CSRF  string
}

// CourseItem is one course in a list.
type CourseItem struct {
	ID, Name, Term, Role, Section string
}

// CoursesView is the list of courses: a person's own, or every course for
// an instructor, who may also create one.
type CoursesView struct {
	Courses   []CourseItem
	CanCreate bool
	Error     string
	CSRF      string
}

// MemberItem is one row of a course's roster.
type MemberItem struct {
	Name, Email, Role, Section, Joined string
}

// IssuedRow is a person a roster import added, with their one-time link.
type IssuedRow struct{ Name, Email, URL string }

// ImportSummary is what a roster import did.
type ImportSummary struct {
	Added, Updated int
	Issued         []IssuedRow // links for people who have no password yet
	Expires        string
}

// CourseView is a course's page. A student sees the course and their
// section; staff see the roster too.
type CourseView struct {
	ID, Name, Term, TimeZone string
	Role, Section            string // the viewer's place
	Staff                    bool   // sees the roster
	Manage                   bool   // imports rosters and changes members
	JoinCode, JoinURL        string
	Members                  []MemberItem
	Import                   *ImportSummary
	Assignments              []AssignmentLink
	Error                    string
	CSRF                     string
}

// AssignmentLink is one assignment in a course's list.
type AssignmentLink struct {
	ID, Title, Due string
	Points         int
}

// JoinView is the page a join code opens.
type JoinView struct {
	Code, CourseName, Term string
	SignedIn               bool // joins at once; otherwise makes an account first
	Name, Email, Error     string
	CSRF                   string
}

// ExerciseChoice is an exercise an assignment may include.
type ExerciseChoice struct {
	Slug, Title string
	Points      int
	Picked      bool // in the assignment, on a form
}

// AssignmentFormView is the form that makes an assignment, or edits one
// (ID set), with what it holds now.
type AssignmentFormView struct {
	CourseID, CourseName, TimeZone string
	ID, Title                      string // ID "" for a new assignment
	Exercises                      []ExerciseChoice
	Opens, Due                     string // datetime-local values
	Late                           string // "24 80" lines
	Scoring, Feedback              string
	Max                            int
	Error                          string
	CSRF                           string
}

// AssignmentItemView is one exercise of an assignment, as a student sees
// their standing in it.
type AssignmentItemView struct {
	Slug, Title string
	Points      int
	Earned      string // "7.50"
	Run         string // the submission that counts, or ""
	Credit      int
	Used        int
	Left        string // "2 left", "no cap"
	Note        string // the staff's comment on an overridden score
}

// AuditItem is one line of an assignment's audit log.
type AuditItem struct{ At, Action, Detail string }

// GradeRow is one student's row of an assignment's gradebook.
type GradeRow struct {
	ID, Name, Email, Section string
	Cells                    []GradeCell
	Total                    string
	Submissions              int
	Last                     string
	Extension                string // their own due time, or ""
}

// GradeCell is what a student earned on one exercise, and the run behind it.
type GradeCell struct {
	Earned, Run string
	Late        bool
	Overridden  bool
}

// AssignmentView is an assignment's page: a student's standing, or the
// gradebook for the course's staff.
type AssignmentView struct {
	ID, Title, CourseID, CourseName string
	Opens, Due, Closes              string // in the course's time zone
	Late                            []string
	Scoring                         string
	State                           string // what a submission now earns
	Points                          int
	// A student's view.
	Items  []AssignmentItemView
	Earned string
	Hidden bool // only pass or fail shows until the due time
	// The staff's view.
	Staff    bool
	Columns  []ExerciseChoice
	Rows     []GradeRow
	Sections []string
	Section  string // the filter in use
	Sort     string
	Audit    []AuditItem
	Manage   bool // the viewer may regrade
	Regrades []RegradeLink
	Error    string
	CSRF     string
	Me       string // the viewer's id, for the link to their submissions
}

// RegradeLink names one regrade of an assignment.
type RegradeLink struct{ ID, At, Scope string }

// SubmissionsView is one student's submissions for an assignment, as
// their course's staff or they themselves see them.
type SubmissionsView struct {
	ID, Title, CourseID, CourseName string
	User, Student, Email            string
	Staff                           bool // the viewer is staff: regrades show
	Manage                          bool // the viewer may regrade
	Hidden                          bool // only whether each passed shows, until the due time
	Submissions                     []SubmissionRow
	CSRF                            string
}

// SubmissionRow is one submission and what became of it.
type SubmissionRow struct {
	Run, Exercise, Title, At string
	Outcome                  string // "7 / 10 (failed)", "in line", "could not be graded: ..."
	Credit                   int    // its late credit, in percent
	Counted                  bool   // the one that counts for its exercise
	Previous                 string // the student's submission of the exercise before it, for a comparison
	// Predicted is the student's prediction committed before it, in words
	// ("" when none), and Actual the real answer its run gave.
	Predicted, Actual string
	Regrades          []RegradeRun
}

// RegradeRun is one regrade of a submission.
type RegradeRun struct {
	Run, At, Outcome string
	Stands           bool // it stands in for the submission now
}

// RegradeView is one regrade: every submission it grades again, before
// and after, and each student's total then and now.
type RegradeView struct {
	ID, AssignmentID, AssignmentTitle, CourseID, CourseName string
	Scope, By, At                                           string
	Graded, Total, Changed                                  int
	Finished                                                bool
	Items                                                   []RegradeItemView
	Totals                                                  []RegradeTotal
}

// RegradeItemView is one submission of a regrade.
type RegradeItemView struct {
	User, Student, Email, Exercise string
	Submitted                      string // when the student submitted it
	Submission, Run                string
	Before, After, Change          string
	Changed                        bool
}

// RegradeTotal is one student's assignment total before a regrade and now.
type RegradeTotal struct {
	User, Student, Email string
	Before, Now, Change  string
	Changed              bool
}

// DashboardView is an assignment's class dashboard, for its course's
// staff: per exercise, how the class is doing.
type DashboardView struct {
	ID, Title, CourseID, CourseName string
	Students                        int
	Exercises                       []ExerciseDashboard
}

// ExerciseDashboard is one exercise of a dashboard.
type ExerciseDashboard struct {
	Slug, Title string
	Points      int
	Submitted   int      // students who submitted
	Histogram   []Bucket // what the counted submissions earned, in tenths of the points
	Passed      int      // students with a full score
	FirstPass   string   // median time from opening to a student's first full score, or ""
	Failing     []FailingCheck
	Lints       []FailingCheck // the lints that fired in the latest submissions, most first
}

// Bucket is one bar of a histogram.
type Bucket struct {
	Label string
	Count int
	Width int // percent of the widest bar
}

// FailingCheck is a check that students' latest submissions fail, with
// one of those runs.
type FailingCheck struct {
	Title   string
	Count   int
	Example string // a run id
}

func assignmentFormTitle(v AssignmentFormView) string {
	if v.ID == "" {
		return "New assignment"
	}
	return "Edit " + v.Title
}

func assignmentFormAction(v AssignmentFormView) string {
	if v.ID == "" {
		return "/courses/" + v.CourseID + "/assignments"
	}
	return "/assignments/" + v.ID
}

// CourseGradesView is a course's gradebook: a column per assignment.
type CourseGradesView struct {
	ID, Name string
	Columns  []ExerciseChoice // the assignments: Slug is the id
	Points   int
	Rows     []GradeRow
	Sections []string
	Section  string // the filter in use
	Sort     string
}
