package tracking

import (
	"strings"
	"testing"
)

func TestIsBotAndDeviceClass(t *testing.T) {
	browsers := []struct{ ua, device string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", DeviceDesktop},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51", DeviceDesktop},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", DeviceDesktop},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", DeviceDesktop},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", DeviceDesktop},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1", DeviceMobile},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36", DeviceMobile},
		{"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", DeviceMobile},
		{"Mozilla/5.0 (Linux; Android 10; KING_KONG_5_PRO Build/QP1A.190711.020; CUBOT) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36", DeviceMobile},
		{"Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", DeviceTablet},
		{"Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", DeviceTablet},
	}
	for _, b := range browsers {
		if IsBot(b.ua) {
			t.Errorf("a browser counted as a bot: %s", b.ua)
		}
		if got := DeviceClass(b.ua); got != b.device {
			t.Errorf("DeviceClass = %s, want %s: %s", got, b.device, b.ua)
		}
	}
	bots := []string{
		"",
		"   ",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
		"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
		"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
		"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
		"Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
		"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
		"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
		"Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
		"curl/8.5.0",
		"Wget/1.21.4",
		"python-requests/2.31.0",
		"Python-urllib/3.11",
		"Go-http-client/1.1",
		"Java/17.0.2",
		"okhttp/4.12.0",
		"axios/1.6.8",
		"Scrapy/2.11.1 (+https://scrapy.org)",
		"PostmanRuntime/7.37.3",
		"Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Puppeteer",
	}
	for _, ua := range bots {
		if !IsBot(ua) {
			t.Errorf("a bot counted as a browser: %q", ua)
		}
		if DeviceClass(ua) != DeviceOther {
			t.Errorf("DeviceClass of a bot = %s: %q", DeviceClass(ua), ua)
		}
	}
}

// TestEveryBotSignatureWorks keeps the list honest: each signature, inside
// an otherwise ordinary browser user agent and in any case, is caught, and
// none of them is caught by an ordinary browser on its own.
func TestEveryBotSignatureWorks(t *testing.T) {
	plain := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	if IsBot(plain) {
		t.Fatal("the plain browser is a bot")
	}
	seen := map[string]bool{}
	for _, sig := range botSignatures {
		if sig != strings.ToLower(sig) || strings.TrimSpace(sig) != sig || sig == "" {
			t.Errorf("signature %q must be lower-case and trimmed", sig)
		}
		if seen[sig] {
			t.Errorf("signature %q is listed twice", sig)
		}
		seen[sig] = true
		if !IsBot(plain + " " + strings.ToUpper(sig)) {
			t.Errorf("signature %q is not caught", sig)
		}
	}
}
