import { errorTable } from '../lib/errors.js';

export const RegistryErrors = errorTable({
  REG_DEVICE_EXISTS: { message: 'a device with this id already exists', status: 409 },
  REG_DEVICE_INVALID: { message: 'device record is invalid', status: 400 },
  REG_DEVICE_NOT_FOUND: { message: 'no such device', status: 404 },
  REG_USER_EXISTS: { message: 'a user with this name already exists', status: 409 },
  REG_USER_INVALID: { message: 'user record is invalid', status: 400 },
  REG_USER_NOT_FOUND: { message: 'no such user', status: 404 },
});
