import { expect } from 'chai';
import { absoluteTime, deviceName, timeAgo, UNKNOWN_BROWSER } from '../../src/server/auth/device-name.js';

describe('device names on the Account page', () => {
  describe('deviceName', () => {
    const cases: [string, string][] = [
      ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on Linux'],
      ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36', 'Chrome on Linux'],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox on Windows'],
      ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
      ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Safari on iPhone'],
      ['Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1', 'Safari on iPad'],
      ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', 'Safari on macOS'],
      ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1', 'Chrome on iPhone'],
      ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15', 'Firefox on iPhone'],
      ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'Chrome on Android'],
      ['Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36', 'Samsung Internet on Android'],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 'Edge on Windows'],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 OPR/114.0.0.0', 'Opera on Windows'],
      ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on ChromeOS'],
      ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on macOS'],
      ['Mozilla/5.0 (PlayStation; PlayStation 5/2.26) Gecko/20100101 Firefox/128.0', 'Firefox'],
    ];
    for (const [ua, name] of cases) {
      it(`${name} ← ${ua.slice(0, 60)}…`, () => {
        expect(deviceName(ua)).to.equal(name);
      });
    }

    it('says "Unknown browser" for what it cannot read, however odd', () => {
      for (const ua of ['', 'undici', 'curl/8.5.0', 'Mozilla/5.0', 'Safari/604.1', '<script>alert(1)</script>', 'x'.repeat(100_000)]) {
        expect(deviceName(ua), ua.slice(0, 40)).to.equal(UNKNOWN_BROWSER);
      }
    });

    it('names only what it recognises, never echoing the user agent back', () => {
      const hostile = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/1.0 <img src=x onerror=alert(1)>';
      expect(deviceName(hostile)).to.equal('Chrome on Linux');
    });
  });

  describe('timeAgo', () => {
    const now = Date.UTC(2025, 10, 28, 12, 0, 0);
    const cases: [number, string][] = [
      [0, 'just now'],
      [59_000, 'just now'],
      [-5_000, 'just now'],
      [60_000, '1 minute ago'],
      [5 * 60_000 + 30_000, '5 minutes ago'],
      [59 * 60_000, '59 minutes ago'],
      [3600_000, '1 hour ago'],
      [23 * 3600_000, '23 hours ago'],
      [24 * 3600_000, '1 day ago'],
      [6 * 24 * 3600_000, '6 days ago'],
    ];
    for (const [ago, words] of cases) {
      it(`${ago} ms ago → "${words}"`, () => {
        expect(timeAgo(now - ago, now)).to.equal(words);
      });
    }

    it('gives the date itself from a week ago on', () => {
      expect(timeAgo(Date.UTC(2025, 9, 1, 12), now)).to.equal('1 Oct 2025');
    });
  });

  it('absoluteTime gives day, month, year and time', () => {
    expect(absoluteTime(Date.UTC(2025, 9, 1, 12, 5))).to.match(/^1 Oct 2025, \d\d:\d\d$/);
  });
});
