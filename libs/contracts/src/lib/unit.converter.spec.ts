describe('@lhncbc/ucum-lhc is loaded on the first conversion', () => {
  afterEach(() => jest.resetModules());

  it('not when @aiot/contracts is imported (services that convert no units do not pay its memory), once when first needed', () => {
    let loads = 0;
    jest.isolateModules(() => {
      jest.doMock('@lhncbc/ucum-lhc', () => {
        loads++;
        return jest.requireActual('@lhncbc/ucum-lhc') as unknown;
      });
      const contracts = require('../index') as typeof import('../index');
      contracts.parseReadingPayload('{"deviceId":"d1","ts":1767225600000,"seq":1,"metrics":{"co2":600}}', { fallbackDeviceId: 'd1', nowMs: 0 });
      expect(loads).toBe(0);
      expect(contracts.affineConversion('[degF]', 'Cel')).toEqual({ scale: expect.closeTo(5 / 9, 12) as unknown, offset: expect.closeTo(-160 / 9, 9) as unknown });
      expect(contracts.SensorCatalog.default().has('temperature')).toBe(true);
      expect(loads).toBe(1);
    });
  });
});
