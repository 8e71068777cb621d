import { expect } from 'chai';
import { controlState, notifyAction, ringNotification } from '../../src/client/ringing/lib/notify-policy.js';

describe('ring notifications: when and what', () => {
  it('the control: a button to ask, a line once answered, nothing without notifications', () => {
    expect(controlState('default')).to.deep.equal({ kind: 'ask' });
    expect(controlState('granted')).to.deep.equal({ kind: 'said', text: 'Notifications are on' });
    expect(controlState('denied')).to.deep.equal({ kind: 'said', text: 'Notifications are blocked in this browser\'s settings' });
    expect(controlState(null)).to.deep.equal({ kind: 'unavailable' });
  });

  it('notifies only for a ring into a hidden tab with permission, once; closes when looked at or over', () => {
    const s = { permission: 'granted', visibility: 'hidden', ringing: true, shown: false } as const;
    expect(notifyAction(s)).to.equal('show');
    expect(notifyAction({ ...s, shown: true })).to.equal('keep');
    expect(notifyAction({ ...s, visibility: 'visible' })).to.equal('keep');
    expect(notifyAction({ ...s, visibility: 'visible', shown: true })).to.equal('close');
    expect(notifyAction({ ...s, ringing: false, shown: true })).to.equal('close');
    expect(notifyAction({ ...s, ringing: false })).to.equal('keep');
    for (const permission of ['default', 'denied', null] as const) expect(notifyAction({ ...s, permission })).to.equal('keep');
  });

  it('says who calls, into which room, and tags it by the call', () => {
    expect(ringNotification('c1', 'Ada', null)).to.deep.equal({ title: 'Ada is calling you', body: 'Open Hearth to answer.', tag: 'hearth-ring-c1' });
    expect(ringNotification('c2', 'Ada', 'Standup').body).to.equal('Into “Standup” on Hearth. Open Hearth to answer.');
  });
});
