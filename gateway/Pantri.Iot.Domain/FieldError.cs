namespace Pantri.Iot.Domain;

/// <summary>Why a field of a request is refused: the field as the caller named it (<c>Tracking.ReorderAt</c>,
/// <c>DeviceIds[2]</c>) and what is wrong with it.</summary>
/// <param name="Field">The field's path, as the caller named it.</param>
/// <param name="Message">What is wrong, in words a caller can act on.</param>
public sealed record FieldError(string Field, string Message);
