// Package tracking holds what website and email tracking share between the
// HTTP layer and the future email sender: the embeddable tracking script, the
// bot filter and device classes of user agents, and the signer of the tokens
// in email open pixels and click links.
package tracking

import "strings"

// botSignatures are lower-case fragments of the user agents of crawlers,
// headless browsers, monitors, link previewers and HTTP libraries. A page view
// whose user agent contains one is not recorded. This is the one list; add
// new signatures here (and a case to the test).
var botSignatures = []string{
	// generic words
	"bot", "crawl", "spider", "slurp", "scraper", "archiver", "indexer", "fetcher",
	// headless and automated browsers
	"headlesschrome", "headless", "phantomjs", "puppeteer", "playwright", "selenium", "webdriver",
	"electron/", "cypress", "splash", "htmlunit",
	// HTTP clients and libraries
	"curl/", "wget/", "python-requests", "python-urllib", "python-httpx", "aiohttp", "httpx",
	"go-http-client", "java/", "okhttp", "apache-httpclient", "libwww-perl", "node-fetch", "axios/",
	"undici", "guzzlehttp", "scrapy", "postmanruntime", "insomnia", "http_request", "winhttp",
	// monitors, audits and link previews
	"lighthouse", "pagespeed", "gtmetrix", "pingdom", "uptimerobot", "statuscake", "site24x7",
	"newrelicpinger", "datadog", "facebookexternalhit", "whatsapp", "embedly", "preview", "skypeuripreview",
	"mediapartners-google", "google-inspectiontool", "feedfetcher", "validator", "check_http",
}

// botExceptions are browsers whose user agents contain a signature above by
// accident, such as the phones of the brand Cubot.
var botExceptions = []string{"cubot"}

// IsBot reports whether the user agent belongs to a bot, a crawler, a
// headless or automated browser, or an HTTP library rather than a person's
// browser. Empty user agents, and those without the "Mozilla/" token every
// browser sends, count as bots.
func IsBot(userAgent string) bool {
	ua := strings.ToLower(strings.TrimSpace(userAgent))
	if ua == "" || !strings.Contains(ua, "mozilla/") {
		return true
	}
	for _, ex := range botExceptions {
		ua = strings.ReplaceAll(ua, ex, "")
	}
	for _, sig := range botSignatures {
		if strings.Contains(ua, sig) {
			return true
		}
	}
	return false
}

// Device classes of user agents.
const (
	DeviceDesktop = "desktop"
	DeviceMobile  = "mobile"
	DeviceTablet  = "tablet"
	DeviceOther   = "other"
)

// DeviceClass returns the class of device a browser's user agent describes:
// desktop, mobile, tablet, or other (bots and unknown agents).
func DeviceClass(userAgent string) string {
	ua := strings.ToLower(userAgent)
	switch {
	case IsBot(userAgent):
		return DeviceOther
	case strings.Contains(ua, "ipad") || strings.Contains(ua, "tablet") || strings.Contains(ua, "kindle") || strings.Contains(ua, "silk/") ||
		(strings.Contains(ua, "android") && !strings.Contains(ua, "mobile")):
		return DeviceTablet
	case strings.Contains(ua, "mobi") || strings.Contains(ua, "iphone") || strings.Contains(ua, "ipod") || strings.Contains(ua, "android") ||
		strings.Contains(ua, "windows phone"):
		return DeviceMobile
	case strings.Contains(ua, "windows") || strings.Contains(ua, "macintosh") || strings.Contains(ua, "x11") || strings.Contains(ua, "cros") ||
		strings.Contains(ua, "linux"):
		return DeviceDesktop
	default:
		return DeviceOther
	}
}
