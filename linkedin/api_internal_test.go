package linkedin

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestResponsesURL(t *testing.T) {
	q := ResponsesQuery{SponsoredAccount: "urn:li:sponsoredAccount:123", Start: 20, Count: 10}
	want := "https://api.linkedin.com/rest/leadFormResponses?q=owner&owner=(sponsoredAccount:urn%3Ali%3AsponsoredAccount%3A123)" +
		"&leadType=(leadType:SPONSORED)&limitedToTestLeads=false&fields=" + responseFields + "&start=20&count=10"
	if got := responsesURL(DefaultAPIBaseURL, q); got != want {
		t.Errorf("url\n got %s\nwant %s", got, want)
	}
	q.Since = time.UnixMilli(1700000000000)
	q.Until = time.UnixMilli(1700000600000)
	want = "https://api.linkedin.com/rest/leadFormResponses?q=owner&owner=(sponsoredAccount:urn%3Ali%3AsponsoredAccount%3A123)" +
		"&leadType=(leadType:SPONSORED)&limitedToTestLeads=false&submittedAtTimeRange=(start:1700000000000,end:1700000600000)&fields=" + responseFields + "&start=20&count=10"
	if got := responsesURL(DefaultAPIBaseURL, q); got != want {
		t.Errorf("url with a time range\n got %s\nwant %s", got, want)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{"0.5", 500 * time.Millisecond, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
		{"", 0, false},
	} {
		h := http.Header{}
		h.Set("Retry-After", c.v)
		got, ok := retryAfter(h, now)
		if got != c.want || ok != c.ok {
			t.Errorf("Retry-After %q = %v %v, want %v %v", c.v, got, ok, c.want, c.ok)
		}
	}
	if got := []time.Duration{backoff(1), backoff(2), backoff(3), backoff(6), backoff(20)}; !cmp.Equal(got, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 30 * time.Second, 30 * time.Second}) {
		t.Errorf("backoff %v", got)
	}
}

func TestParseLeadForm(t *testing.T) {
	f, err := ParseLeadForm([]byte(`{"id":"7234246","name":" Form ","hiddenFields":[{"name":"h","value":"v"}],"content":{"questions":[
		{"questionId":107234246,"name":"First name","question":{"localized":{"es_ES":"Nombre"}},"predefinedField":"FIRST_NAME",
		 "questionDetails":{"textQuestionDetails":{"maxResponseLength":300}}},
		{"questionId":"2","name":"size","question":{"localized":{"gl_ES":"Tamaño","en_US":"Size"}},
		 "questionDetails":{"multipleChoiceQuestionDetails":{"options":[{"value":1,"text":{"localized":{"en_US":"Small"}}},{"id":2,"text":"Big"}]}}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Form{ID: 7234246, Name: "Form", HiddenFields: map[string]string{"h": "v"}, Questions: []Question{
		{ID: 107234246, Name: "First name", Label: "Nombre", PredefinedField: "FIRST_NAME"},
		{ID: 2, Name: "size", Label: "Size", Options: map[int64]string{1: "Small", 2: "Big"}},
	}}
	if d := cmp.Diff(want, f); d != "" {
		t.Errorf("form (-want +got):\n%s", d)
	}
	for _, bad := range []string{`nope`, `{}`, `{"content":{"questions":"x"}}`} {
		if _, err := ParseLeadForm([]byte(bad)); err == nil {
			t.Errorf("%s: parsed", bad)
		}
	}
}

func TestParseResponsesPage(t *testing.T) {
	p, err := ParseResponsesPage([]byte(`{"elements":[{"id":"urn:li:leadFormResponse:1","submittedAt":"1773300000000","testLead":true,
		"versionedLeadGenFormUrn":"urn:li:versionedLeadGenForm:(urn:li:leadGenForm:55,3)","owner":{"sponsoredAccount":"urn:li:sponsoredAccount:9"},
		"associatedEntity":{"associatedCreative":"urn:li:sponsoredCreative:8"},"leadMetadata":{"sponsoredLeadMetadata":{"campaign":"urn:li:sponsoredCampaign:7"}},
		"formResponse":{"answers":[{"questionId":1,"answerDetails":{"textQuestionAnswer":{"answer":"x"}}},
			{"questionId":2,"answerDetails":{"multipleChoiceAnswer":{"options":[1,"2"]}}},{"questionId":3,"answerDetails":{"somethingNew":{}}}],
		 "consentResponses":[{"consentId":4,"accepted":true}]}}],"paging":{"start":0,"count":10}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &ResponsesPage{Total: -1, Count: 10, Raw: 1, Elements: []Response{{
		ID: "urn:li:leadFormResponse:1", SubmittedAt: time.UnixMilli(1773300000000).UTC(), TestLead: true, SponsoredAccount: "urn:li:sponsoredAccount:9",
		FormURN: "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:55,3)", FormID: 55, FormVersion: 3, Campaign: "urn:li:sponsoredCampaign:7",
		Creative: "urn:li:sponsoredCreative:8", Answers: []Answer{{QuestionID: 1, Text: "x"}, {QuestionID: 2, Options: []int64{1, 2}}},
		Consents: []ConsentResponse{{ConsentID: 4, Accepted: true}},
	}}}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("page (-want +got):\n%s", d)
	}
}
