// Photos shrunk on the phone before upload, shared by the technician's complete page
// (tech-photos.js) and the store's report form (store.js): a large photo is drawn
// onto a canvas at 2048 px on its longest side and re-encoded as JPEG 0.85, so a
// patchy connection carries ~0.5-1 MB instead of 5-7 MB. Browsers apply the EXIF
// orientation when decoding (imageOrientation "from-image"), so the copy is upright;
// anything the browser cannot decode goes up unchanged (the server always
// re-processes and has its own limits).
(function () {
  "use strict";

  var MAX_SIDE = 2048;
  var QUALITY = 0.85;
  var turn = Promise.resolve();

  function shrink(file) {
    if (!window.createImageBitmap || !/^image\/(jpeg|png|webp|heic|heif)$/i.test(file.type)) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var longest = Math.max(bitmap.width, bitmap.height);
      if (longest <= MAX_SIDE) {
        if (bitmap.close) bitmap.close();
        return file;
      }
      var scale = MAX_SIDE / longest;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      var ctx = canvas.getContext("2d");
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          canvas.width = canvas.height = 0; // give the pixels back now, not at GC
          if (!blob) { resolve(file); return; }
          var name = (file.name || "photo").replace(/\.[^.]+$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg" }));
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  // One photo at a time: five 12 MP photos decoded at once would hold ~250 MB of
  // pixels on a phone; in turn, one.
  function prepare(file) {
    var result = turn.then(function () { return shrink(file); });
    turn = result.catch(function () {});
    return result;
  }

  window.EvercoldPhotos = { prepare: prepare, MAX_SIDE: MAX_SIDE };
})();
